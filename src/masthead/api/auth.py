"""App token authentication: Authorization: Bearer <token>."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja.security import HttpBearer

from masthead.accounts.actions import live_token
from masthead.core import clock
from masthead.metering.middleware import identify


class AppTokenAuth(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> Any | None:
        app_token = live_token(token, now=clock.now())
        if app_token is None:
            return None
        user = app_token.user
        request.user = user
        request.app_token = app_token  # type: ignore[attr-defined]
        # The access doors read request.reader: derive it from the token's reader exactly as
        # the metering middleware does for a signed-in session.
        request.reader = identify(request)  # type: ignore[attr-defined]
        return user


def anonymous_without_credentials(request: HttpRequest) -> bool:
    """Lets a request through without a token, but not with a bad one (that is a 401)."""
    return "Authorization" not in request.headers


app_token = AppTokenAuth()
token_or_anonymous = [app_token, anonymous_without_credentials]
