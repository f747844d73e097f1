"""The authentication backend: Django's, refusing suspended accounts.

``user_can_authenticate`` is asked at login and, through ``get_user``, on every request
that carries a session: a suspended staff member's open admin session stops working at
once, even before (or without) its deletion by ``accounts.services.user_set_suspended``.
"""

from django.contrib.auth.backends import ModelBackend


class AccountBackend(ModelBackend):
    def user_can_authenticate(self, user) -> bool:
        return super().user_can_authenticate(user) and getattr(user, "suspended_at", None) is None
