"""Who may launch discovery rounds: whoever holds the explicit permission (superusers hold every permission).
Being staff is not enough. The dashboard, the admin and the API all ask here."""

LAUNCH_ROUND = "discovery.launch_round"


def round_launch_allowed(user) -> bool:
    """Whether ``user`` may launch, cancel, retry or resume rounds."""
    return bool(user is not None and user.is_authenticated and user.has_perm(LAUNCH_ROUND))
