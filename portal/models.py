"""The site's own tables: API tokens, stored as SHA-256 digests of their keys."""

import hashlib

from django.conf import settings
from django.db import models


class ApiToken(models.Model):
    """A user's API token. The key itself is shown once, when it is made (``portal.api.tokens``); only its
    SHA-256 digest is stored, and the first characters, to tell tokens apart. Keys are 160 random bits, so a
    fast digest is enough: nothing can be learnt from one by guessing keys."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_token")
    digest = models.CharField(max_length=64, unique=True, help_text="SHA-256 of the key, hex")
    prefix = models.CharField(max_length=8, help_text="the key's first characters")
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "API token"

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.user})"

    @staticmethod
    def digest_of(key: str) -> str:
        return hashlib.sha256(key.encode()).hexdigest()
