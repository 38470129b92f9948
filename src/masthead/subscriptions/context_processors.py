from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from masthead.core import clock
from masthead.subscriptions.standing import StandingNotice, standing_notice_for


def standing(request: HttpRequest) -> dict[str, Any]:
    """`standing_notice` for the banner on every page (base.html); worked out only if a
    template asks, and only for a signed-in reader, from the subscription the request has
    already read for the access decision (no further query or round trip)."""

    def notice() -> StandingNotice | None:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return None
        return standing_notice_for(user.pk, now=clock.now())

    return {"standing_notice": notice}
