"""JSON logs with a request id on every line written during a request, and in X-Request-ID."""

from __future__ import annotations

import io
import json
import logging

import pytest
from django.core.cache import cache

from masthead.core import ratelimit
from masthead.core.requestlog import JsonFormatter, RequestContextFilter

pytestmark = pytest.mark.django_db


@pytest.fixture
def json_lines(settings):
    """Every line the masthead loggers write, as parsed JSON objects."""
    settings.ACCESS_LOG = True
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RequestContextFilter())
    logger = logging.getLogger("masthead")
    logger.addHandler(handler)
    previous = logger.level
    logger.setLevel(logging.INFO)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    logger.removeHandler(handler)
    logger.setLevel(previous)


def test_each_request_ends_with_one_json_access_line_carrying_its_id(client, json_lines):
    response = client.get("/healthz?probe=1")
    request_id = response["X-Request-ID"]
    assert len(request_id) == 32 and int(request_id, 16) >= 0
    (line,) = json_lines()
    assert set(line) == {
        "time",
        "level",
        "logger",
        "message",
        "request_id",
        "path",
        "status",
        "duration",
        "method",
    }
    assert line["level"] == "INFO"
    assert line["logger"] == "masthead.request"
    assert line["message"] == "GET /healthz 200"
    assert line["request_id"] == request_id
    assert line["path"] == "/healthz"
    assert line["status"] == 200
    assert 0 <= line["duration"] < 5
    assert line["time"].endswith("+00:00")


def test_a_line_logged_by_the_code_during_a_request_carries_the_same_id(
    client, json_lines, settings
):
    cache.clear()
    settings.REDIS_URL = ""
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "search": "1/60"}
    client.get("/search/?q=a")
    refused = client.get("/search/?q=a")
    assert refused.status_code == 429
    lines = [line for line in json_lines() if line["request_id"] == refused["X-Request-ID"]]
    assert [(line["logger"], line["level"]) for line in lines] == [
        ("masthead.ratelimit", "WARNING"),
        ("masthead.request", "INFO"),
    ]
    assert lines[0]["path"] == "/search/"
    assert lines[0]["message"].startswith("rate limit search reached by 127.0.0.1")
    assert ratelimit.limit_named("search") is not None


def test_two_requests_get_two_ids_and_a_line_outside_a_request_has_none(client, json_lines):
    first = client.get("/healthz")["X-Request-ID"]
    second = client.get("/healthz")["X-Request-ID"]
    assert first != second
    logging.getLogger("masthead.test").warning("outside any request")
    assert json_lines()[-1]["request_id"] is None
    assert json_lines()[-1]["path"] is None


def test_a_trusted_proxy_passes_its_request_id_through(client, settings):
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]
    passed = client.get("/healthz", REMOTE_ADDR="10.1.2.3", HTTP_X_REQUEST_ID="nginx-7f3a-01")
    assert passed["X-Request-ID"] == "nginx-7f3a-01"


@pytest.mark.parametrize(
    ("remote", "incoming"),
    [
        ("203.0.113.7", "nginx-7f3a-01"),  # not our proxy: anyone could claim an id
        ("10.1.2.3", "bad id with spaces"),  # our proxy, but not a sane id
        ("10.1.2.3", "x" * 129),  # too long
        ("10.1.2.3", 'quote"injection'),
    ],
)
def test_an_untrusted_or_insane_request_id_is_replaced(client, settings, remote, incoming):
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]
    response = client.get("/healthz", REMOTE_ADDR=remote, HTTP_X_REQUEST_ID=incoming)
    assert response["X-Request-ID"] != incoming
    assert len(response["X-Request-ID"]) == 32


def test_production_logs_json_and_the_demo_plain(monkeypatch):
    import importlib

    from masthead import settings as live

    monkeypatch.setenv("MASTHEAD_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "x" * 60)
    production = importlib.reload(live)
    try:
        assert production.LOG_FORMAT == "json"
        assert production.ACCESS_LOG is True
        assert production.LOGGING["handlers"]["console"]["formatter"] == "json"
    finally:
        monkeypatch.delenv("MASTHEAD_ENV")
        demo = importlib.reload(live)
    assert demo.LOG_FORMAT == "plain"
    assert demo.ACCESS_LOG is False
