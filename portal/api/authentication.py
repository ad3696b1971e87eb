"""``Authorization: Token <key>`` checked against the stored digests (portal.models.ApiToken)."""

from rest_framework.authentication import TokenAuthentication
from rest_framework.exceptions import AuthenticationFailed

from portal.api.tokens import api_token_get


class HashedTokenAuthentication(TokenAuthentication):
    """DRF's token authentication (same header, same errors) over hashed keys."""

    def authenticate_credentials(self, key: str):
        token = api_token_get(key=key)
        if token is None:
            raise AuthenticationFailed("Invalid token.")
        if not token.user.is_active:
            raise AuthenticationFailed("User inactive or deleted.")
        return token.user, token
