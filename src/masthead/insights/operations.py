"""The operator's view: is everything that keeps the paywall honest working right now?

Each part is read when the page is asked for, and a part that cannot be read says so
(it never turns the page into a 500).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.utils import timezone

from masthead.core import events, outage

log = logging.getLogger("masthead.insights")
STUCK_WEBHOOK = timedelta(minutes=15)


@dataclass
class Part:
    title: str
    ok: bool
    summary: str
    rows: list[list[Any]] = field(default_factory=list)
    header: list[str] = field(default_factory=list)


def meter_store() -> Part:
    from masthead.metering.stores import get_store

    try:
        store = get_store()
        name = getattr(store, "name", type(store).__name__)
        client = getattr(store, "client", None)
        if client is not None:
            client.ping()
        reachable = True
    except Exception as error:  # any failure of the store is what this part reports
        log.info("operator view: meter store unreachable: %s", error)
        name, reachable = "unknown", False
    down = outage.is_down("meter")
    ok = reachable and not down
    state = "answering" if ok else "NOT answering"
    return Part("Meter store", ok, f"The {name} meter store is {state}.")


def event_buffer() -> Part:
    from masthead.insights.drain import buffered

    waiting = buffered()
    down = outage.is_down(events.STORE)
    if waiting is None:
        return Part("Insights event buffer", False, "The event buffer (Redis) cannot be read.")
    ok = not down
    text = f"{waiting} event(s) waiting to be drained" + (
        "; this process could not reach the buffer recently (events dropped)." if down else "."
    )
    return Part("Insights event buffer", ok, text)


def job_queue() -> Part:
    from masthead.core.metrics import queue_depth
    from masthead.core.models import TaskFailure

    depth = queue_depth()
    failures = TaskFailure.objects.filter(resolved_at__isnull=True).order_by("-failed_at")
    count = failures.count()
    rows = [
        [f.task_path, timezone.localtime(f.failed_at).strftime("%Y-%m-%d %H:%M"), f.error[:160]]
        for f in failures[:5]
    ]
    queued = "cannot be read" if depth is None else f"{depth} task(s) waiting"
    return Part(
        "Job queue",
        depth is not None and count == 0,
        f"Queue: {queued}. Unresolved failed tasks: {count}.",
        rows,
        ["task", "failed at", "error"],
    )


def webhooks() -> Part:
    from masthead.billing.models import WebhookEvent, WebhookStatus

    failed = WebhookEvent.objects.filter(status=WebhookStatus.FAILED)
    stuck = WebhookEvent.objects.filter(
        status=WebhookStatus.RECEIVED, received_at__lt=timezone.now() - STUCK_WEBHOOK
    ).count()
    rows = [
        [
            w.event_type,
            w.event_id,
            timezone.localtime(w.received_at).strftime("%Y-%m-%d %H:%M"),
            w.note[:160],
        ]
        for w in failed.order_by("-received_at")[:5]
    ]
    count = failed.count()
    return Part(
        "Payment webhooks",
        count == 0 and stuck == 0,
        f"Failed: {count}. Received over 15 minutes ago and not yet applied: {stuck}.",
        rows,
        ["event", "id", "received", "note"],
    )


def paywall_audit() -> Part:
    from masthead.audit.models import AuditRun

    last = AuditRun.objects.order_by("-ran_at").first()
    if last is None:
        return Part("Last paywall audit", False, "The paywall audit has not been run here yet.")
    when = timezone.localtime(last.ran_at).strftime("%Y-%m-%d %H:%M")
    verdict = "passed" if last.passed else "FAILED"
    return Part(
        "Last paywall audit",
        last.passed,
        f"{when} against {last.base_url}: {verdict}. {last.summary}.",
    )


def parts() -> list[Part]:
    found = []
    for read in (meter_store, event_buffer, job_queue, webhooks, paywall_audit):
        try:
            found.append(read())
        except Exception as error:  # one unreadable part must not hide the others
            log.warning("operator view: %s failed: %s", read.__name__, error)
            found.append(
                Part(read.__name__.replace("_", " ").capitalize(), False, "Could not be read.")
            )
    return found
