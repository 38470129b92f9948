from __future__ import annotations

from django.http import HttpRequest

from masthead.access.campaigns import active_campaign
from masthead.access.models import Campaign
from masthead.core import clock


def campaign(request: HttpRequest) -> dict[str, object]:
    """`active_campaign` for the site-wide banner; looked up only if a template asks."""

    def running() -> Campaign | None:
        return active_campaign(clock.now())

    return {"active_campaign": running}
