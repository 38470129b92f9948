"""Scheduled publishing: Wagtail's go-live and expiry dates, run by `masthead run-jobs`."""

from __future__ import annotations

from datetime import datetime

from django.core.management import call_command

from masthead.core import jobs


def publish_scheduled(now: datetime) -> int:
    """Publish pages whose go-live time has come and unpublish expired ones (idempotent)."""
    from wagtail.models import Page

    due = Page.objects.filter(live=False, go_live_at__lte=now).count()
    call_command("publish_scheduled", verbosity=0)
    return due


def register() -> None:
    jobs.register("newsroom.publish_scheduled")(publish_scheduled)
