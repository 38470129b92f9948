"""Authentication backends whose `get_user` (every signed-in request) reads the shared cache.

They are Django's and allauth's backends; only the per-request user lookup changes: the user
row (with its permissions loaded, so the staff check needs no query either) is kept in the
shared cache, stamped with the reader's version (`masthead.core.reader_state`), which any
save of the user (a new password, `is_active`, `is_staff`), a group or permission change
bumps. Django's session checks still run on what it returns: the session's password hash
against the user's (so a new password signs other sessions out at once) and, in
`SessionEpochMiddleware`, the reader's "sign out everywhere" epoch.
"""

from __future__ import annotations

from typing import Any

from allauth.account import auth_backends
from django.contrib.auth import backends

from masthead.core import reader_state

# Sessions signed in before these backends name Django's and allauth's; `LEGACY` maps them.
LEGACY = {
    "django.contrib.auth.backends.ModelBackend": "masthead.accounts.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend": (
        "masthead.accounts.backends.AuthenticationBackend"
    ),
}


class CachedUserMixin:
    def get_user(self, user_id: Any) -> Any:
        if not reader_state.enabled():
            return super().get_user(user_id)  # type: ignore[misc]
        try:
            key = int(user_id)
        except (TypeError, ValueError):
            return None
        stamp, user = reader_state.read(key, "user")
        if user is reader_state.MISSING:
            user = super().get_user(user_id)  # type: ignore[misc]
            if user is not None and not user.is_superuser:
                user.get_all_permissions()  # kept with the user: has_perm() needs no query
            reader_state.keep(key, "user", stamp, user)
        return user


class ModelBackend(CachedUserMixin, backends.ModelBackend):
    pass


class AuthenticationBackend(CachedUserMixin, auth_backends.AuthenticationBackend):
    pass
