"""Prometheus metrics: request latency by route, meter decisions by reason, queue depth and
webhook failures, served at /metrics to a bearer token or an allowed address only.

Several processes serve the site (granian workers, the task worker), so counters use
prometheus_client's multiprocess mode when PROMETHEUS_MULTIPROC_DIR is set (`masthead serve`
sets and empties it at start): each process writes its own memory-mapped file and /metrics
sums them. Queue depth is read from the queue at scrape time, so it is never per process.
See docs/decisions/0027-observability-and-limits.md.
"""

from __future__ import annotations

import hmac
import logging
import os
from collections.abc import Iterator
from typing import Any

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.cache import never_cache
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import REGISTRY, Collector

log = logging.getLogger("masthead.metrics")

REQUEST_LATENCY = Histogram(
    "masthead_request_duration_seconds",
    "Time to answer a request, by route (URL pattern), method and status class.",
    ["route", "method", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
METER_DECISIONS = Counter(
    "masthead_meter_decisions",
    "Access decisions taken for article requests, by reason.",
    ["reason"],
)
WEBHOOK_FAILURES = Counter(
    "masthead_webhook_failures",
    "Payment provider webhooks refused (bad signature or payload) or failed to apply.",
    ["provider", "kind"],
)


def observe_request(route: str, method: str, status: int, seconds: float) -> None:
    REQUEST_LATENCY.labels(route=route, method=method, status=f"{status // 100}xx").observe(seconds)


def count_decision(reason: Any) -> None:
    METER_DECISIONS.labels(reason=str(getattr(reason, "value", reason))).inc()


def count_webhook_failure(provider: str, kind: str) -> None:
    WEBHOOK_FAILURES.labels(provider=provider, kind=kind).inc()


def queue_depth() -> int | None:
    """Tasks waiting in the queue now (None when the queue cannot be read)."""
    from masthead.core.worker import backend_kind

    try:
        kind = backend_kind()
        if kind == "django_tasks_db":
            from django_tasks_db.models import DBTaskResult

            return int(DBTaskResult.objects.ready().count())
        if kind == "django_tasks_rq":
            import django_rq

            return sum(len(django_rq.get_queue(name)) for name in settings.RQ_QUEUES)
    except Exception as error:  # a scrape reports what it can; the queue's own check says why
        log.warning("queue depth unavailable: %s", error)
        return None
    return 0


class QueueCollector(Collector):
    def collect(self) -> Iterator[GaugeMetricFamily]:
        depth = queue_depth()
        if depth is not None:
            yield GaugeMetricFamily(
                "masthead_queue_depth", "Background tasks waiting to run.", value=depth
            )


def registry() -> CollectorRegistry:
    """What a scrape reads: every process's counters, plus the queue read now."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        scrape = CollectorRegistry()
        multiprocess.MultiProcessCollector(scrape)
    else:
        scrape = CollectorRegistry()
        scrape.register(_Default())
    scrape.register(QueueCollector())
    return scrape


class _Default(Collector):
    """This process's metrics (the embedded default: one process)."""

    def collect(self) -> Iterator[Any]:
        yield from REGISTRY.collect()


def allowed(request: HttpRequest) -> bool:
    from masthead.core.clientip import client_ip

    token = settings.METRICS_TOKEN
    sent = request.META.get("HTTP_AUTHORIZATION", "")
    if token and hmac.compare_digest(sent.encode(), f"Bearer {token}".encode()):
        return True
    allowed_ips = settings.METRICS_ALLOWED_IPS
    return bool(allowed_ips) and client_ip(request) in allowed_ips


@never_cache
def view(request: HttpRequest) -> HttpResponse:
    """Prometheus text format for a scraper; a 404 for anyone else (nothing to discover)."""
    if not allowed(request):
        raise Http404("No such page.")
    return HttpResponse(generate_latest(registry()), content_type=CONTENT_TYPE_LATEST)
