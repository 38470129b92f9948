"""Errors reach Sentry (here a local HTTP endpoint standing in for it) as an envelope for the
exception a view raised, with no personal data: no e-mail address, no cookies, no session."""

from __future__ import annotations

import gzip
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import sentry_sdk
from django.http import HttpRequest, HttpResponse
from django.urls import path

from masthead.core.errors import init_sentry, scrub
from tests import factories

pytestmark = pytest.mark.django_db
EMAIL = "private.reader@example.com"


class Boom(RuntimeError):
    pass


def explode(request: HttpRequest) -> HttpResponse:
    raise Boom("the presses stopped")


urlpatterns = [path("boom/", explode)]


class Envelopes(BaseHTTPRequestHandler):
    received: list[bytes] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if self.headers.get("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        elif self.headers.get("Content-Encoding") == "br":
            import brotli

            body = brotli.decompress(body)
        type(self).received.append(body)
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def sentry_endpoint():
    Envelopes.received = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), Envelopes)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    port = server.server_address[1]
    init_sentry(
        f"http://publickey@127.0.0.1:{port}/42",
        environment="test-env",
        release="masthead@test-release",
    )
    yield Envelopes.received
    sentry_sdk.get_client().close(timeout=2)
    sentry_sdk.init(dsn=None)
    server.shutdown()
    server.server_close()


def events(received: list[bytes]) -> list[dict]:
    found = []
    for envelope in received:
        lines = envelope.split(b"\n")
        for header, payload in zip(lines[1::2], lines[2::2], strict=False):
            if json.loads(header).get("type") == "event":
                found.append(json.loads(payload))
    return found


def test_an_exception_in_a_view_reaches_sentry_without_personal_data(
    client, settings, sentry_endpoint
):
    settings.ROOT_URLCONF = __name__
    reader = factories.user(EMAIL)
    client.force_login(reader)
    client.cookies["mh_reader"] = "reader-cookie-value-123"
    client.raise_request_exception = False
    response = client.get(
        "/boom/?email=private.reader%40example.com", HTTP_AUTHORIZATION="Bearer tok-abc"
    )
    assert response.status_code == 500
    sentry_sdk.flush(timeout=5)
    (event,) = events(sentry_endpoint)
    (exception,) = event["exception"]["values"]
    assert exception["type"] == "Boom"
    assert exception["value"] == "the presses stopped"
    assert event["environment"] == "test-env"
    assert event["release"] == "masthead@test-release"
    assert exception["stacktrace"]["frames"][-1]["function"] == "explode"
    assert all("vars" not in frame for frame in exception["stacktrace"]["frames"])
    raw = b"".join(sentry_endpoint).decode()
    session_key = client.cookies[settings.SESSION_COOKIE_NAME].value
    for personal in (EMAIL, "private.reader", "reader-cookie-value-123", session_key, "tok-abc"):
        assert personal not in raw, personal
    assert "cookies" not in event["request"]
    assert event.get("user", {}).get("email") is None


def test_scrub_removes_cookies_headers_query_and_user_fields():
    event = {
        "request": {
            "cookies": {"sessionid": "x"},
            "query_string": "email=a@b.c",
            "data": {"password": "p"},
            "headers": {"Cookie": "x", "Authorization": "Bearer t", "Accept": "text/html"},
        },
        "user": {"id": "7", "email": "a@b.c", "ip_address": "1.2.3.4"},
    }
    assert scrub(event) == {"request": {"headers": {"Accept": "text/html"}}, "user": {"id": "7"}}


def test_without_a_dsn_nothing_is_sent(settings):
    assert settings.SENTRY_DSN == ""
    assert getattr(sentry_sdk.get_client(), "dsn", None) is None


def test_breadcrumbs_drop_redis_commands_and_query_parameters():
    from masthead.core.errors import scrub_breadcrumb

    assert scrub_breadcrumb({"category": "redis", "message": "GET session:abc"}) is None
    assert scrub_breadcrumb({"category": "query", "message": "SELECT 1", "data": {"p": 1}}) == {
        "category": "query",
        "message": "SELECT 1",
    }
    assert scrub_breadcrumb({"category": "masthead", "message": "x"}) == {
        "category": "masthead",
        "message": "x",
    }
