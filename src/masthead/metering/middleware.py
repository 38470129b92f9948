"""Attach the reader's identity to every request (request.reader).

Placeholder until the metering issue lands: identity is the logged-in user or nobody.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.http import HttpRequest, HttpResponse


@dataclass(frozen=True)
class ReaderIdentity:
    user_id: int | None
    anonymous_id: str | None
    is_staff: bool = False


class ReaderIdentityMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        request.reader = ReaderIdentity(  # type: ignore[attr-defined]
            user_id=user.pk if user.is_authenticated else None,
            anonymous_id=None,
            is_staff=bool(user.is_authenticated and user.is_staff),
        )
        return self.get_response(request)
