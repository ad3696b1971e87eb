"""API tokens: made (the key returned once, its digest stored) and looked up by key."""

import secrets

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from portal.models import ApiToken


@transaction.atomic
def api_token_create(*, user: AbstractBaseUser) -> str:
    """A new key for ``user``, replacing any earlier one (which stops working). Shown once: only its digest is
    kept."""
    key = secrets.token_hex(20)
    ApiToken.objects.filter(user=user).delete()
    ApiToken.objects.create(user=user, digest=ApiToken.digest_of(key), prefix=key[:8])
    return key


def api_token_get(*, key: str) -> ApiToken | None:
    """The token with this key (and its user), or None."""
    return ApiToken.objects.select_related("user").filter(digest=ApiToken.digest_of(key)).first()
