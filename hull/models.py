"""The catalogue: computed entries (one structure and its energy from one method), their chemical
systems, per-hull-set stability, stored hulls and ingest batches."""

from django.db import models

from hull.hull_sets import DEFAULT_HULL_SET, GGA_HULL_SETS, HULL_SETS, METHOD_FAMILIES

# the hull sets a discovery round or model can use (GGA scale); the catalogue's own rows take every hull set
HULL_SET_CHOICES = [(name, name) for name in GGA_HULL_SETS]
ALL_HULL_SET_CHOICES = [(name, name) for name in HULL_SETS]
METHOD_FAMILY_CHOICES = [(name, name) for name in METHOD_FAMILIES]


class IngestBatch(models.Model):
    """One run of the ingest service: which file, how it was read, what it did."""

    class Status(models.TextChoices):
        RUNNING = "running"
        SUCCEEDED = "succeeded"
        FAILED = "failed"

    source = models.CharField(max_length=64)
    fmt = models.CharField("format", max_length=16)
    path = models.CharField(max_length=1024)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.RUNNING)
    n_loaded = models.PositiveIntegerField(default=0)
    n_updated = models.PositiveIntegerField(default=0)
    n_skipped = models.PositiveIntegerField(default=0)
    n_rejected = models.PositiveIntegerField(default=0)
    report = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "ingest batches"

    def __str__(self) -> str:
        return f"batch {self.pk}: {self.source} ({self.fmt}) {self.path}"


class ChemicalSystem(models.Model):
    """A chemical system such as ``Fe-Li-O`` (elements sorted alphabetically)."""

    name = models.CharField(max_length=200, unique=True)
    nelements = models.PositiveSmallIntegerField(db_index=True)

    class Meta:
        ordering = ["nelements", "name"]

    def __str__(self) -> str:
        return self.name

    @property
    def elements(self) -> list[str]:
        return self.name.split("-")


class ChemicalSystemElement(models.Model):
    """One element of a chemical system; the table behind the "contains all/any/only" element queries."""

    chemsys = models.ForeignKey(ChemicalSystem, on_delete=models.CASCADE, related_name="element_rows")
    symbol = models.CharField(max_length=3)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["chemsys", "symbol"], name="uniq_chemsys_element")]
        # Element queries ask "which systems have this symbol": (symbol, chemsys) answers from the index alone
        # (an index-only scan per element, merged on chemsys), 7x faster than a symbol index plus heap reads
        # at 100k systems; it also serves plain symbol lookups, so symbol needs no index of its own.
        indexes = [models.Index(fields=["symbol", "chemsys"], name="chemsys_element_symbol")]

    def __str__(self) -> str:
        return f"{self.chemsys_id}:{self.symbol}"


class ChemicalSystemPair(models.Model):
    """Two elements of a chemical system, with the system's name: every ordered pair of its elements, each element
    with itself included. "The systems that hold a and b", the commonest element query, is then one range of the
    unique index, answered from the index alone (the names, without a join), whatever the order of a and b and
    also where they are the same element (see :func:`hull.selectors.chemsys_names_with_elements`)."""

    first = models.CharField(max_length=3)
    second = models.CharField(max_length=3)
    chemsys = models.ForeignKey(
        ChemicalSystem,
        to_field="name",
        db_column="chemsys",
        on_delete=models.CASCADE,
        related_name="pair_rows",
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["first", "second", "chemsys"], name="uniq_chemsys_pair")
        ]

    def __str__(self) -> str:
        return f"{self.chemsys_id}:{self.first},{self.second}"


def element_pairs(name: str) -> list[tuple[str, str]]:
    """The rows of :class:`ChemicalSystemPair` for the system ``name``: (first, second) for every ordered pair of
    its elements, each element with itself included."""
    elements = name.split("-")
    return [(first, second) for first in elements for second in elements]


class Entry(models.Model):
    """One computed entry: a structure (or, for a bare ComputedEntry, a composition) and its energy from
    one method. Energies are on the catalogue's corrected scale (MP2020-compatible)."""

    public_id = models.CharField(max_length=32, unique=True)
    source = models.CharField(max_length=64)
    source_id = models.CharField(max_length=128)
    method = models.CharField(max_length=64)
    method_family = models.CharField(max_length=16, choices=METHOD_FAMILY_CHOICES, db_index=True)

    formula = models.CharField(max_length=255)
    reduced_formula = models.CharField(max_length=255, db_index=True)
    anonymous_formula = models.CharField(max_length=255, db_index=True)
    chemsys = models.ForeignKey(
        ChemicalSystem, to_field="name", db_column="chemsys", on_delete=models.PROTECT, related_name="entries"
    )
    nelements = models.PositiveSmallIntegerField(db_index=True)
    nsites = models.PositiveIntegerField(db_index=True)
    composition = models.JSONField(help_text="element -> amount in the cell")

    structure = models.JSONField(null=True, blank=True, help_text="pymatgen Structure.as_dict()")
    volume = models.FloatField(null=True, blank=True, help_text="Å^3 per cell")
    density = models.FloatField(null=True, blank=True, help_text="g/cm^3")
    spacegroup_symbol = models.CharField(max_length=32, blank=True)
    spacegroup_number = models.PositiveSmallIntegerField(null=True, blank=True, db_index=True)
    crystal_system = models.CharField(max_length=16, blank=True)
    symprec = models.FloatField(null=True, blank=True, help_text="spglib tolerance (Å) of the space group")

    energy = models.FloatField(help_text="total energy, corrected scale (eV per cell)")
    uncorrected_energy = models.FloatField(help_text="eV per cell")
    correction = models.FloatField(default=0.0, help_text="eV per cell")
    energy_per_atom = models.FloatField(help_text="corrected, eV/atom")
    band_gap = models.FloatField(null=True, blank=True, help_text="eV, where the source gives one")
    data = models.JSONField(default=dict, blank=True, help_text="source-specific extras")
    content_hash = models.CharField(max_length=64, help_text="hash of structure, composition and energies")

    batch = models.ForeignKey(IngestBatch, on_delete=models.PROTECT, related_name="entries")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "entries"
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["source", "source_id"], name="uniq_entry_source_id"),
            models.CheckConstraint(condition=models.Q(nsites__gt=0), name="entry_nsites_positive"),
        ]
        indexes = [
            models.Index(fields=["chemsys", "energy_per_atom"], name="entry_chemsys_energy"),
            # the entries served as OPTIMADE structures, counted from this index alone (``data_available``):
            # the count otherwise read every row, structures and all (0.4 s at 1,000,000 entries, against 0.1 s)
            models.Index(
                fields=["id"], condition=models.Q(structure__isnull=False), name="entry_with_structure"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.public_id} {self.reduced_formula}"

    @property
    def elements(self) -> list[str]:
        return self.chemsys_id.split("-")

    def stability_in(self, hull_set: str = DEFAULT_HULL_SET) -> "Stability | None":
        return next((s for s in self.stabilities.all() if s.hull_set == hull_set), None)


class Stability(models.Model):
    """An entry's thermodynamics in one hull set."""

    # no index of its own: the unique (entry, hull_set) constraint's index serves lookups by entry
    entry = models.ForeignKey(Entry, on_delete=models.CASCADE, related_name="stabilities", db_index=False)
    hull_set = models.CharField(max_length=16, choices=ALL_HULL_SET_CHOICES)
    # a copy of the entry's chemical system (entries never change system), so that a search by elements and
    # stability walks one index, (hull_set, chemsys, e_above_hull), instead of every entry of the systems
    chemsys = models.CharField(max_length=200)
    formation_energy_per_atom = models.FloatField(null=True, blank=True)
    e_above_hull = models.FloatField(null=True, blank=True)
    decomposition_energy = models.FloatField(null=True, blank=True, help_text="GNoME decomposition energy")
    decomposition = models.JSONField(
        null=True,
        blank=True,
        help_text='[{"entry": pk, "public_id": ..., "formula": ..., "amount": atom fraction}]',
    )
    is_stable = models.BooleanField(null=True)
    missing_elements = models.JSONField(default=list, blank=True, help_text="elements with no reference")
    hull_version = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "stabilities"
        constraints = [models.UniqueConstraint(fields=["entry", "hull_set"], name="uniq_stability_entry_set")]
        indexes = [
            models.Index(fields=["hull_set", "is_stable"], name="stab_set_stable"),
            # with the entry: every stable entry ties at 0 eV/atom, and pages sorted by (e_above_hull, id) are
            # then read off the index instead of sorting every tie (1M entries: stable ones, 2.5 s -> 0.3 ms)
            models.Index(fields=["hull_set", "e_above_hull", "entry"], name="stab_set_ehull_entry"),
            models.Index(fields=["hull_set", "formation_energy_per_atom"], name="stab_set_eform"),
            models.Index(fields=["hull_set", "chemsys", "e_above_hull"], name="stab_set_chemsys_ehull"),
        ]

    def __str__(self) -> str:
        return f"{self.entry_id}@{self.hull_set}: {self.e_above_hull}"


class HullRecord(models.Model):
    """The stored convex hull of one chemical system in one hull set."""

    hull_set = models.CharField(max_length=16, choices=ALL_HULL_SET_CHOICES)
    chemsys = models.ForeignKey(
        ChemicalSystem, to_field="name", db_column="chemsys", on_delete=models.CASCADE, related_name="hulls"
    )
    stable_entry_ids = models.JSONField(default=list)
    facets = models.JSONField(default=list, help_text="lower-hull simplices as lists of entry pks")
    missing_elements = models.JSONField(default=list, blank=True)
    n_entries = models.PositiveIntegerField(default=0)
    version = models.PositiveIntegerField(default=1)
    computed_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["hull_set", "chemsys"], name="uniq_hull_set_chemsys")]

    def __str__(self) -> str:
        return f"{self.chemsys_id}@{self.hull_set} v{self.version}"


class HullSetState(models.Model):
    """One row per hull set: the version counter of its hulls. Hull updates lock this row, so two updates
    of the same hull set never interleave (a row lock on PostgreSQL; SQLite serialises writers anyway)."""

    hull_set = models.CharField(max_length=16, choices=ALL_HULL_SET_CHOICES, unique=True)
    version = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.hull_set} v{self.version}"


class CatalogueState(models.Model):
    """Counters of catalogue writes that hull updates do not cover (one row per kind: ``features``). With the
    hull-set versions (bumped in the transaction of every ingest) they make the catalogue state that cached
    responses are keyed by (:func:`hull.selectors.catalogue_state`)."""

    name = models.CharField(max_length=32, unique=True)
    version = models.PositiveBigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.name} v{self.version}"


class EntryFeatures(models.Model):
    """Structure-derived properties computed in the background for each new structure (family screens)."""

    entry = models.OneToOneField(Entry, on_delete=models.CASCADE, related_name="features", primary_key=True)
    dimensionality_cheon = models.PositiveSmallIntegerField(
        null=True, blank=True, db_index=True, help_text="get_dimensionality_cheon, tolerance 0.45 Å"
    )
    dimensionality_larsen = models.PositiveSmallIntegerField(null=True, blank=True, db_index=True)
    prototype_key = models.CharField(
        max_length=64,
        blank=True,
        db_index=True,
        help_text="structure prototype (anonymised structure match group)",
    )
    error = models.TextField(blank=True)
    computed_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "entry features"

    def __str__(self) -> str:
        return f"features of {self.entry_id}"
