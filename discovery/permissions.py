"""Who may launch discovery rounds: whoever holds the explicit permission (superusers hold every permission).
Being staff is not enough. The dashboard, the admin and the API all ask here. Training models from the dashboard
needs staff status and the "Can add training job" permission."""

LAUNCH_ROUND = "discovery.launch_round"


def round_launch_allowed(user) -> bool:
    """Whether ``user`` may launch, cancel, retry or resume rounds."""
    return bool(user is not None and user.is_authenticated and user.has_perm(LAUNCH_ROUND))


TRAIN_MODELS = "discovery.add_trainingjob"


def training_start_allowed(user) -> bool:
    """Whether ``user`` may start training models from the dashboard: staff holding "Can add training job"
    (superusers hold every permission)."""
    return bool(user is not None and user.is_authenticated and user.is_staff and user.has_perm(TRAIN_MODELS))


def benchmark_launch_allowed(user) -> bool:
    """Whether ``user`` may launch the rediscovery benchmark (a long job on the workers): an administrator,
    i.e. staff holding the round launch permission."""
    return bool(round_launch_allowed(user) and user.is_staff)
