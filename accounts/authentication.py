"""``Authorization: Bearer <token>`` authentication."""

from rest_framework.authentication import TokenAuthentication
from rest_framework.exceptions import AuthenticationFailed

from tiktok import db_router


class BearerTokenAuthentication(TokenAuthentication):
    keyword = "Bearer"

    def authenticate_credentials(self, key):
        # A token made a moment ago may not be on the replica yet: tokens are read from
        # the primary (one indexed lookup).
        with db_router.use_primary():
            user, token = super().authenticate_credentials(key)
        if user.suspended_at is not None:
            raise AuthenticationFailed("This account is suspended.", code="account_suspended")
        db_router.set_reader(user.pk)
        return user, token
