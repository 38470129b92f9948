"""Stripe fixtures: a signer that signs like Stripe, and localstripe on 127.0.0.1."""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
import subprocess
import sys
import time
from typing import Any

import pytest

from tests.subscriptions.conftest import (  # noqa: F401
    Catalog,
    catalog,
    fast_password_hashing,
    make_catalog,
)

SECRET = "whsec_test_masthead"


def sign(body: bytes, secret: str = SECRET, timestamp: int | None = None) -> str:
    """The Stripe-Signature header: t=<unix>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


@pytest.fixture
def deliver(client, settings):
    """`deliver(event)` posts a Stripe-signed event to /webhooks/stripe/; `tamper` changes the
    body after signing; `secret` and `timestamp` change the signature."""
    settings.STRIPE_WEBHOOK_SECRET = SECRET

    def post(
        event: dict[str, Any],
        *,
        secret: str = SECRET,
        timestamp: int | None = None,
        tamper: bool = False,
    ):
        raw = json.dumps(event).encode()
        header = sign(raw, secret, timestamp)
        if tamper:
            raw = raw.replace(b'"active"', b'"trialing"')
        return client.post(
            "/webhooks/stripe/",
            data=raw,
            content_type="application/json",
            HTTP_STRIPE_SIGNATURE=header,
        )

    return post


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


LOCALSTRIPE = """
import sys, aiohttp.web, localstripe.server, localstripe.resources
localstripe.resources.store.try_load_from_disk = lambda *a, **k: None
localstripe.resources.store.dump_to_disk = lambda *a, **k: None
aiohttp.web.run_app(localstripe.server.app, host="127.0.0.1", port=int(sys.argv[1]), print=None)
"""


@pytest.fixture(scope="session")
def localstripe_url():
    """localstripe on 127.0.0.1 with its state in memory; skipped if it cannot start."""
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-c", LOCALSTRIPE, str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.skip(f"localstripe did not start: {process.stderr.read().decode()[-500:]}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.1)
    else:
        process.kill()
        pytest.skip("localstripe did not listen within 15 s")
    yield f"http://127.0.0.1:{port}"
    process.terminate()
    process.wait(timeout=10)


@pytest.fixture
def stripe_double(settings):
    """The local Stripe double on 127.0.0.1, with the SDK pointed at it (STRIPE_API_BASE)."""
    from tests.billing.stripe_double import serve

    double, server = serve()
    settings.PAYMENT_PROVIDER = "stripe"
    settings.STRIPE_SECRET_KEY = "sk_test_masthead"
    settings.STRIPE_API_BASE = double.url
    settings.STRIPE_WEBHOOK_SECRET = SECRET
    double.add_price("price_monthly", amount=1500)
    double.add_price("price_annual", amount=15000, interval="year")
    yield double
    server.shutdown()
    server.server_close()
