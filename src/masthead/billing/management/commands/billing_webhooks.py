from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from masthead.billing.models import WebhookEvent, WebhookStatus
from masthead.billing.webhooks import answer, requeue


class Command(BaseCommand):
    help = "List failed provider webhooks, or queue them again: `billing_webhooks retry [ID]`."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["list", "retry"], nargs="?", default="list")
        parser.add_argument("event_id", nargs="?")

    def handle(self, *args: Any, **options: Any) -> None:
        failed = WebhookEvent.objects.filter(status=WebhookStatus.FAILED).order_by("created")
        if options["event_id"]:
            failed = failed.filter(event_id=options["event_id"])
        for event in failed:
            if options["action"] == "retry":
                requeue(event)  # applied by a worker (at once on the immediate backend)
                event.refresh_from_db(fields=["status"])
                _, body = answer(event)
                self.stdout.write(f"{event.event_id} {event.event_type}: {body}")
            else:
                self.stdout.write(f"{event.event_id} {event.event_type} {event.note}")
