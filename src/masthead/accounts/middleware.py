"""Refuse sessions signed in before the reader's last "log out everywhere"."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse

from masthead.accounts.actions import SESSION_EPOCH_KEY, current_session_epoch

__all__ = ["SESSION_EPOCH_KEY", "SessionEpochMiddleware"]


class SessionEpochMiddleware:
    """Runs after AuthenticationMiddleware and before the reader identity is derived, so a
    stale session is anonymous for everything downstream (the meter included)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if user.is_authenticated:
            stamped = request.session.get(SESSION_EPOCH_KEY, 0)
            if stamped != current_session_epoch(user.pk):
                logout(request)
        return self.get_response(request)
