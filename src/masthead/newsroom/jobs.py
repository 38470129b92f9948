"""Scheduled publishing: Wagtail's go-live and expiry dates, run by `masthead run-jobs`; and
the purge of shared caches when a campaign starts or ends (its banner is on every page)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

from django.core.management import call_command

from masthead.core import generation, jobs
from masthead.newsroom import purges

# A campaign edge older than this is not purged any more (shared caches dropped it long ago).
EDGE_WINDOW = timedelta(hours=1)


def publish_scheduled(now: datetime) -> int:
    """Publish pages whose go-live time has come and unpublish expired ones (idempotent).

    Wagtail's signals bump the site generation for each page; the job bumps it once more when
    anything changed, so every worker drops what it kept even if a signal was missed."""
    from wagtail.models import Page

    due = Page.objects.filter(live=False, go_live_at__lte=now).count()
    expiring = Page.objects.filter(live=True, expire_at__lte=now).count()
    call_command("publish_scheduled", verbosity=0)
    if due or expiring:
        generation.bump()
    return due + expiring


def campaign_edges(now: datetime) -> Iterator[jobs.DueItem]:
    """Each campaign start or end that has just passed: one due item each, so the scheduler
    enqueues its purge once cluster-wide. Nothing when purging is off."""
    from django.db.models import Q

    from masthead.access.models import Campaign

    if not purges.enabled():
        return
    since = now - EDGE_WINDOW
    edges = Q(starts_at__gt=since, starts_at__lte=now) | Q(ends_at__gt=since, ends_at__lte=now)
    for campaign in Campaign.objects.filter(edges):
        for edge, moment in (("start", campaign.starts_at), ("end", campaign.ends_at)):
            if since < moment <= now:
                yield jobs.DueItem(key=f"{campaign.pk}:{edge}", due=moment)


def purge_campaign_edge(key: str, now: datetime) -> int:
    """The banner appeared or went away on every page: purge every shared page, now (this
    runs as a task already)."""
    purges.purge_everything.call()
    return 1


def register() -> None:
    jobs.register("newsroom.publish_scheduled")(publish_scheduled)
    jobs.register_items("newsroom.campaign_edge_purge", handle=purge_campaign_edge)(campaign_edges)
