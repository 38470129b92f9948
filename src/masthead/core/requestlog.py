"""Request ids and structured logs.

Every request gets an id: a sane incoming ``X-Request-ID`` from a trusted proxy (so one id
follows the request through nginx and the app), else a fresh one. The id is on every log line
written while the request runs (a context variable, so threads and workers never mix them up)
and in the ``X-Request-ID`` response header. With MASTHEAD_LOG_FORMAT=json each line is one
JSON object: time, level, logger, message, request_id, path, status, duration (the last two on
the access line that closes each request, MASTHEAD_ACCESS_LOG).
"""

from __future__ import annotations

import json
import logging
import re
import time
import uuid
from collections.abc import Callable
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from masthead.core import clientip, headers, metrics, reader_state

HEADER = "X-Request-ID"
# What we accept from a proxy: short, printable, no spaces or quotes (it goes into logs).
SANE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:@/+=-]{0,127}$")

request_id_var: ContextVar[str | None] = ContextVar("masthead_request_id", default=None)
path_var: ContextVar[str | None] = ContextVar("masthead_request_path", default=None)
access_log = logging.getLogger("masthead.request")


def new_request_id() -> str:
    return uuid.uuid4().hex


def request_id_for(request: HttpRequest) -> str:
    """The id this request goes by (assigned once, then kept on the request)."""
    existing = getattr(request, "request_id", None)
    if isinstance(existing, str):
        return existing
    incoming = request.META.get("HTTP_X_REQUEST_ID", "")
    if incoming and SANE_ID.match(incoming) and clientip.from_trusted_proxy(request):
        chosen = incoming
    else:
        chosen = new_request_id()
    request.request_id = chosen  # type: ignore[attr-defined]
    return chosen


def current_request_id() -> str | None:
    return request_id_var.get()


class RequestContextFilter(logging.Filter):
    """Puts the running request's id and path on every record (``-`` outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = request_id_var.get() or "-"
        if not hasattr(record, "path"):
            record.path = path_var.get()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line."""

    def format(self, record: logging.LogRecord) -> str:
        request_id = getattr(record, "request_id", None) or request_id_var.get()
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, tz=UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": None if request_id == "-" else request_id,
            "path": getattr(record, "path", None) or path_var.get(),
        }
        for extra in ("status", "duration", "method"):
            if hasattr(record, extra):
                entry[extra] = getattr(record, extra)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


def route_of(request: HttpRequest) -> str:
    """The route a request matched (its URL pattern), never the raw path (unbounded labels)."""
    match = getattr(request, "resolver_match", None)
    if match is None:
        return "unmatched"
    return match.view_name or match.route or "unmatched"


class RequestScope:
    """One request's id, timing and closing work; the middleware and the narrow path
    (`masthead.newsroom.fast`) both use it, so every response gets the same headers, metric
    and access line whichever way it was served."""

    def __init__(self, request: HttpRequest, route: str | None = None) -> None:
        self.request = request
        self.route = route
        self.started = time.perf_counter()
        self._tokens = (request_id_var.set(request_id_for(request)), path_var.set(request.path))
        self._memo = reader_state.start_request()

    def finish(self, response: HttpResponse) -> HttpResponse:
        """Apply the per-response headers, observe the latency and write the access line."""
        request = self.request
        duration = time.perf_counter() - self.started
        headers.apply_headers(response, request)
        metrics.observe_request(
            self.route or route_of(request),
            request.method or "GET",
            response.status_code,
            duration,
        )
        if settings.ACCESS_LOG:
            access_log.info(
                "%s %s %s",
                request.method,
                request.path,
                response.status_code,
                extra={
                    "status": response.status_code,
                    "duration": round(duration, 6),
                    "method": request.method,
                },
            )
        return response

    def close(self) -> None:
        reader_state.end_request(self._memo)
        request_id_var.reset(self._tokens[0])
        path_var.reset(self._tokens[1])


class RequestContextMiddleware:
    """Outermost: assigns the id, times the request, applies the per-response headers
    (`masthead.core.headers.apply_headers`), writes the access line and the latency metric."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        scope = RequestScope(request)
        try:
            return scope.finish(self.get_response(request))
        finally:
            scope.close()
