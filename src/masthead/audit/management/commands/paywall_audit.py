"""`masthead paywall-audit --base-url http://127.0.0.1:8000`: exit 1 on any leak or blind spot."""

from __future__ import annotations

import logging
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from masthead.audit.audit import Audit, SiteUnreachable
from masthead.audit.models import AuditRun


def record_run(base_url: str, *, passed: bool, leaks: int, blind: int, summary: str) -> None:
    """Keep the run's summary for the operator's view; a database that cannot take it does
    not change the audit's verdict (the command may run far from the site's database)."""
    from django.db import DatabaseError
    from django.utils import timezone

    try:
        AuditRun.objects.create(
            ran_at=timezone.now(),
            base_url=base_url[:300],
            passed=passed,
            leaks=leaks,
            blind=blind,
            summary=summary,
        )
    except DatabaseError as error:
        logging.getLogger("masthead.audit").warning("audit summary not stored: %s", error)


class Command(BaseCommand):
    help = (
        "Read every door of a running site (found from its links, robots.txt, sitemaps, feeds "
        "and OpenAPI document, plus --door) as a fresh and an exhausted anonymous reader, a "
        "registered and an exhausted registered reader, a trialist, a subscriber, a lapsed "
        "trialist, a lapsed subscriber, a past-due reader, a paused subscriber, an app client "
        "with a token, staff, a spoofed crawler, an unidentified bot and an AI training "
        "crawler; fail if gated text reaches a reader access.decide does not let read it, or "
        "if the audit could not see something."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--base-url", default="http://127.0.0.1:8000")
        parser.add_argument(
            "--door",
            action="append",
            default=[],
            help="An extra door: per article with {id}, {slug} or {path} (e.g. '/amp/{id}/'), "
            "else one address read as is.",
        )
        parser.add_argument(
            "--persona",
            action="append",
            default=[],
            help="Read only as these personas (by name; default: every persona).",
        )
        parser.add_argument("--timeout", type=float, default=10.0)
        parser.add_argument(
            "--max-pages", type=int, default=2000, help="Discovery reads at most this many."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        audit = Audit(
            options["base_url"],
            options["door"],
            timeout=options["timeout"],
            max_pages=options["max_pages"],
            personas=options["persona"],
        )
        try:
            audit.run()
        except SiteUnreachable as exc:
            raise CommandError(f"{exc}. Is the site running?", returncode=2) from exc
        personas = [p for p in audit.personas if any(name == p for name, _ in audit.reads)]
        for persona in personas:
            doors = sorted((d, n) for (p, d), n in audit.reads.items() if p == persona)
            self.stdout.write(f"READ {persona}: " + ", ".join(f"{d} {n}" for d, n in doors))
        for finding in audit.findings:
            self.stdout.write(str(finding))
        for problem in audit.blind:
            self.stdout.write(f"BLIND {problem}")
        kinds = sorted({door for _, door in audit.reads})
        summary = (
            f"{audit.responses} responses, {len(personas)} personas, {len(kinds)} kinds of door: "
            f"{len(audit.findings)} leak(s), {len(audit.blind)} blind spot(s)"
        )
        record_run(
            options["base_url"],
            passed=not (audit.findings or audit.blind),
            leaks=len(audit.findings),
            blind=len(audit.blind),
            summary=summary,
        )
        if audit.findings or audit.blind:
            raise CommandError(f"Paywall audit failed: {summary}", returncode=1)
        self.stdout.write(self.style.SUCCESS(f"Paywall audit passed: {summary}"))
