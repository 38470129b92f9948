"""App token authentication: Authorization: Bearer <token>.

Two kinds of token are accepted: an app token (`mh_…`, from POST /auth/token) and a reader's
personal token (`mhp_…`, made on the account page) that carries the `api` scope. A personal
token without it is a 403 with the code `token_scope`; a shared or rate-limited one a 429
(`accounts.personal.admit`, decision 0031). Either way the reader is the token's owner."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja.security import HttpBearer

from masthead.accounts import personal
from masthead.accounts.actions import live_token
from masthead.api.errors import ApiError
from masthead.core import clock
from masthead.core.clientip import client_ip
from masthead.metering.middleware import identify


class AppTokenAuth(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> Any | None:
        if personal.is_personal(token):
            return self._personal(request, token)
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

    def _personal(self, request: HttpRequest, token: str) -> Any | None:
        admission = personal.admit(token, scope="api", address=client_ip(request), now=clock.now())
        if admission.refusal in (personal.Refusal.UNKNOWN, personal.Refusal.REVOKED):
            return None  # a 401, like an unknown or revoked app token
        if admission.refusal is not None:
            raise ApiError(admission.status, admission.refusal.value, admission.message)
        assert admission.token is not None
        user = admission.token.user
        request.user = user
        request.personal_token = admission.token  # type: ignore[attr-defined]
        # The token's owner, without the browser's cookie: a personal token never meters.
        request.reader = personal.identity_of(user)  # type: ignore[attr-defined]
        return user


def anonymous_without_credentials(request: HttpRequest) -> bool:
    """Lets a request through without a token, but not with a bad one (that is a 401)."""
    return "Authorization" not in request.headers


app_token = AppTokenAuth()
token_or_anonymous = [app_token, anonymous_without_credentials]
