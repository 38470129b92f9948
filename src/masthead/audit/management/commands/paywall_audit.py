"""`masthead paywall-audit --base-url http://127.0.0.1:8000`: exit 1 on any leak."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from masthead.audit.audit import Audit, SiteUnreachable


class Command(BaseCommand):
    help = (
        "Walk every door of a running site (article page, print view, API, feeds, search, "
        "sitemaps, JSON-LD and meta) as a fresh anonymous reader, an exhausted anonymous "
        "reader, an exhausted registered reader, a spoofed Googlebot and an editor; fail if "
        "text past the preview cut reaches someone who may not read it."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--base-url", default="http://127.0.0.1:8000")
        parser.add_argument(
            "--door",
            action="append",
            default=[],
            help="An extra per-article door, e.g. '/amp/{slug}/' ({id}, {slug}, {path}).",
        )
        parser.add_argument("--timeout", type=float, default=10.0)

    def handle(self, *args: Any, **options: Any) -> None:
        audit = Audit(options["base_url"], options["door"], timeout=options["timeout"])
        try:
            audit.run()
        except SiteUnreachable as exc:
            raise CommandError(f"{exc}. Is the site running?", returncode=2) from exc
        for finding in audit.findings:
            self.stdout.write(str(finding))
        for problem in audit.blind:
            self.stdout.write(f"BLIND {problem}")
        summary = (
            f"{audit.responses} responses from {len(audit.doors_seen)} doors "
            f"({', '.join(sorted(audit.doors_seen))}): {len(audit.findings)} leak(s)"
        )
        if audit.findings or audit.blind:
            raise CommandError(f"Paywall audit failed: {summary}", returncode=1)
        self.stdout.write(self.style.SUCCESS(f"Paywall audit passed: {summary}"))
