"""``Authorization: Bearer <token>`` authentication."""

from rest_framework.authentication import TokenAuthentication
from rest_framework.exceptions import AuthenticationFailed

from tiktok import db_router


class BearerTokenAuthentication(TokenAuthentication):
    keyword = "Bearer"

    def authenticate_credentials(self, key):
        # Read where the request reads (a replica for GETs, so reads keep working while
        # the primary is down); a token made a moment ago may not be there yet, so a miss
        # is checked again on the primary.
        tokens = self.get_model().objects.select_related("user")
        token = tokens.filter(key=key).first()
        if token is None:
            with db_router.use_primary():
                token = tokens.filter(key=key).first()
        if token is None:
            raise AuthenticationFailed("Invalid token.")
        user = token.user
        if not user.is_active:
            raise AuthenticationFailed("User inactive or deleted.")
        if user.suspended_at is not None:
            raise AuthenticationFailed("This account is suspended.", code="account_suspended")
        db_router.set_reader(user.pk)
        return user, token
