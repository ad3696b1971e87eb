"""Discovery rounds (the GNoME active-learning flywheel) and the registry of trained models.

A round refers to the entries it added through the ingest batch it created; the catalogue (``hull``) knows
nothing of rounds.
"""

from django.conf import settings
from django.db import models

from hull.models import HULL_SET_CHOICES, IngestBatch


class Round(models.Model):
    """One turn of the flywheel: generate, filter, evaluate, ingest, hull update, retrain, metrics."""

    class Status(models.TextChoices):
        PENDING = "pending"
        RUNNING = "running"
        SUCCEEDED = "succeeded"
        FAILED = "failed"
        CANCELLED = "cancelled"

    number = models.PositiveIntegerField(unique=True, help_text="1, 2, 3, ... in launch order")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING, db_index=True)
    hull_set = models.CharField(max_length=16, choices=HULL_SET_CHOICES, default="all")
    config = models.JSONField(
        default=dict,
        blank=True,
        help_text="scope (elements or chemical systems), generators, budget, threshold, evaluator, ensemble size, retrain",
    )
    batch = models.OneToOneField(
        IngestBatch,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="discovery_round",
        help_text="the ingest batch holding the entries this round added",
    )
    metrics = models.JSONField(
        default=dict, blank=True, help_text="what the round reports (hit rates, counts)"
    )
    state = models.JSONField(
        default=dict,
        blank=True,
        help_text="what the stages keep between them: the parents chosen, the stable entries before ingest",
    )
    error = models.TextField(blank=True)
    dispatch = models.PositiveIntegerField(
        default=0,
        help_text="how many times the round's work was enqueued (launch, retry, resume); its tasks carry the "
        "number, and one of an earlier dispatch (a copy redelivered after its worker died) does nothing",
    )
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-number"]
        # launching (and cancelling, retrying, resuming) rounds: granted explicitly, being staff is not enough
        permissions = [("launch_round", "Can launch, cancel, retry and resume discovery rounds")]

    def __str__(self) -> str:
        return f"round {self.number} ({self.status})"


class RoundStage(models.Model):
    """The state and progress of one stage of a round."""

    class Name(models.TextChoices):
        GENERATE = "generate"
        FILTER = "filter"
        EVALUATE = "evaluate"
        INGEST = "ingest"
        HULL = "hull"
        RETRAIN = "retrain"
        METRICS = "metrics"

    class Status(models.TextChoices):
        PENDING = "pending"
        RUNNING = "running"
        SUCCEEDED = "succeeded"
        FAILED = "failed"
        SKIPPED = "skipped"
        CANCELLED = "cancelled"

    round = models.ForeignKey(Round, on_delete=models.CASCADE, related_name="stages")
    name = models.CharField(max_length=16, choices=Name.choices)
    order = models.PositiveSmallIntegerField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    done = models.PositiveIntegerField(default=0)
    total = models.PositiveIntegerField(default=0)
    message = models.TextField(blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["round", "order"]
        constraints = [models.UniqueConstraint(fields=["round", "name"], name="uniq_round_stage")]

    def __str__(self) -> str:
        return f"{self.round} {self.name}: {self.status} {self.done}/{self.total}"


class TrainedModel(models.Model):
    """A trained GNoME model or ensemble in the registry; one of each kind is active for filtering."""

    class Kind(models.TextChoices):
        STRUCTURAL = "structural"
        COMPOSITIONAL = "compositional"

    name = models.CharField(max_length=100, unique=True)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    hull_set = models.CharField(max_length=16, choices=HULL_SET_CHOICES, default="dft")
    n_models = models.PositiveSmallIntegerField(default=1, help_text="ensemble size")
    config = models.JSONField(default=dict)
    split = models.JSONField(default=dict, help_text="how train and test were split, with their sizes")
    n_train = models.PositiveIntegerField(default=0)
    n_test = models.PositiveIntegerField(default=0)
    metrics = models.JSONField(default=dict, blank=True)
    checkpoint_path = models.CharField(max_length=1024)
    data_fingerprint = models.CharField(max_length=64, blank=True)
    is_active = models.BooleanField(default=False)
    trained_in_round = models.ForeignKey(
        Round, null=True, blank=True, on_delete=models.SET_NULL, related_name="models"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind"], condition=models.Q(is_active=True), name="one_active_model_per_kind"
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.kind}{', active' if self.is_active else ''})"


class Candidate(models.Model):
    """One candidate structure of a round, from generation through filtering, evaluation and ingestion.

    ``candidate_id`` is the generator's stable hash of the structure, so a stage that runs twice (a retry, a
    worker killed mid-stage) finds the rows it already wrote and adds nothing twice.
    """

    class Status(models.TextChoices):
        GENERATED = "generated"
        REJECTED = "rejected"  # predicted too far above the hull, or not the lowest of its composition
        SELECTED = "selected"  # to be evaluated
        EVALUATED = "evaluated"
        FAILED = "failed"
        INGESTED = "ingested"

    round = models.ForeignKey(Round, on_delete=models.CASCADE, related_name="candidates")
    candidate_id = models.CharField(max_length=80)
    generator = models.CharField(max_length=32, db_index=True)
    parent_id = models.CharField(max_length=64, blank=True)
    operation = models.CharField(max_length=255, blank=True)
    composition = models.CharField(max_length=255, help_text="reduced formula")
    chemsys = models.CharField(max_length=200)
    structure = models.JSONField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.GENERATED, db_index=True)
    kept = models.BooleanField(default=False, help_text="kept by the filter for evaluation")
    baseline = models.BooleanField(
        default=False,
        help_text="in the random sample of all generated candidates evaluated as the baseline "
        "(a candidate may also be kept)",
    )
    predicted_formation_energy = models.FloatField(
        null=True, blank=True, help_text="ensemble median, eV/atom"
    )
    predicted_iqr = models.FloatField(
        null=True,
        blank=True,
        help_text="interquartile range (75th - 25th percentile) of the ensemble members' predictions, eV/atom: "
        "the uncertainty of the median",
    )
    predicted_decomposition_energy = models.FloatField(
        null=True, blank=True, help_text="against the hull as it stood when the round began"
    )
    energy_per_atom = models.FloatField(null=True, blank=True, help_text="evaluated, corrected scale")
    formation_energy_per_atom = models.FloatField(null=True, blank=True, help_text="evaluated")
    decomposition_energy = models.FloatField(
        null=True, blank=True, help_text="evaluated, against the hull as it stood when the round began"
    )
    relaxed_structure = models.JSONField(null=True, blank=True)
    evaluation = models.JSONField(default=dict, blank=True, help_text="method, reason, trajectory summary")
    entry = models.ForeignKey(
        "hull.Entry", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        constraints = [models.UniqueConstraint(fields=["round", "candidate_id"], name="uniq_round_candidate")]
        indexes = [models.Index(fields=["round", "status"], name="candidate_round_status")]

    def __str__(self) -> str:
        return f"{self.candidate_id} ({self.composition}, {self.status})"


class TrainingJob(models.Model):
    """Training of one ensemble on the Celery workers, with its progress: started from the dashboard, or by the
    first start of a fresh portal (``manage.py models_bootstrap``). At most one job per kind is unfinished."""

    class Status(models.TextChoices):
        PENDING = "pending"
        RUNNING = "running"
        SUCCEEDED = "succeeded"
        FAILED = "failed"

    UNFINISHED = (Status.PENDING, Status.RUNNING)

    kind = models.CharField(max_length=16, choices=TrainedModel.Kind.choices)
    config_name = models.CharField(max_length=64, help_text="module under ml_backend/configs")
    hull_set = models.CharField(max_length=16, choices=HULL_SET_CHOICES, default="dft")
    n_models = models.PositiveSmallIntegerField(help_text="ensemble size")
    epochs = models.PositiveIntegerField(help_text="epochs per member")
    limit = models.PositiveIntegerField(
        null=True, blank=True, help_text="train on the first N catalogue entries only"
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING, db_index=True)
    done = models.PositiveIntegerField(default=0, help_text="epochs finished, all members together")
    total = models.PositiveIntegerField(default=0, help_text="epochs to train, all members together")
    estimate_seconds = models.FloatField(null=True, blank=True, help_text="expected duration when queued")
    reason = models.CharField(max_length=100, blank=True, help_text="why it was started")
    error = models.TextField(blank=True)
    model = models.OneToOneField(
        TrainedModel, null=True, blank=True, on_delete=models.SET_NULL, related_name="training_job"
    )
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind"],
                condition=models.Q(status__in=["pending", "running"]),
                name="one_unfinished_training_per_kind",
            ),
            models.CheckConstraint(
                condition=models.Q(done__lte=models.F("total")), name="training_done_le_total"
            ),
        ]

    def __str__(self) -> str:
        return f"training {self.kind} ({self.status} {self.done}/{self.total})"
