"""The campaign page the banner's "Find out more" leads to."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from masthead.access.campaigns import campaign_state
from masthead.access.models import Campaign
from masthead.core import clock


def campaign(request: HttpRequest, pk: int) -> HttpResponse:
    found = get_object_or_404(Campaign, pk=pk)
    return render(
        request,
        "access/campaign.html",
        {"campaign": found, "state": campaign_state(found, clock.now())},
    )
