"""Scheduled publishing: Wagtail's go-live and expiry dates, run by `masthead run-jobs`."""

from __future__ import annotations

from datetime import datetime

from django.core.management import call_command

from masthead.core import generation, jobs


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


def register() -> None:
    jobs.register("newsroom.publish_scheduled")(publish_scheduled)
