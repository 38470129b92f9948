"""Refuse sessions signed in before the reader's last "log out everywhere"."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, logout
from django.contrib.auth.middleware import (
    AuthenticationMiddleware as DjangoAuthenticationMiddleware,
)
from django.http import HttpRequest, HttpResponse

from masthead.access.doors import mark_reader_dependent
from masthead.accounts.actions import SESSION_EPOCH_KEY, current_session_epoch
from masthead.accounts.backends import LEGACY

__all__ = [
    "SESSION_EPOCH_KEY",
    "AuthenticationMiddleware",
    "ReaderPagesMiddleware",
    "SessionEpochMiddleware",
]

# Pages that are about the reader whoever asks: sign-in, sign-up, reset (its key is in the
# URL), account, subscription, checkout. Offers for a signed-out reader are the same for all.
READER_PREFIXES = ("/accounts/", "/account/", "/checkout/")


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


class ReaderPagesMiddleware:
    """Every response a signed-in reader gets shows their account (the header at least), so it
    is reader-dependent: `mark_reader_dependent` makes it private and no-store, and so are the
    account, sign-in and checkout pages for anyone. Pages the same for every signed-out reader
    keep the caching their view gave them: without a session cookie the user is not looked up
    (which would add Vary: Cookie to every public page)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if request.path_info.startswith(READER_PREFIXES) or _signed_in(request):
            mark_reader_dependent(response)
        return response


def _signed_in(request: HttpRequest) -> bool:
    if getattr(request, "app_token", None) is not None:
        return True
    # The API signs in by token only; a browser's session cookie changes nothing there.
    if request.path_info.startswith("/api/") or settings.SESSION_COOKIE_NAME not in request.COOKIES:
        return False
    user = getattr(request, "user", None)
    return bool(user is not None and user.is_authenticated)


class AuthenticationMiddleware(DjangoAuthenticationMiddleware):
    """Django's, after moving a session signed in under Django's or allauth's backend to ours
    (`accounts.backends.LEGACY`), so nobody is signed out by the change of backend."""

    def process_request(self, request: HttpRequest) -> None:
        session = getattr(request, "session", None)
        if session is not None and settings.SESSION_COOKIE_NAME in request.COOKIES:
            path = session.get(BACKEND_SESSION_KEY)
            if path in LEGACY:
                session[BACKEND_SESSION_KEY] = LEGACY[path]
        super().process_request(request)
