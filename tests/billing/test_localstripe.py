"""The Stripe provider against localstripe on 127.0.0.1: customers, subscriptions, and the
signed webhooks localstripe sends back to a live Masthead."""

from __future__ import annotations

import http.server
import json
import threading
import time
import urllib.parse
import urllib.request
from typing import ClassVar

import pytest

from masthead.billing.models import LedgerEntry, ProviderCustomer, WebhookEvent
from masthead.billing.stripe.provider import StripeProvider
from masthead.subscriptions.models import Subscription
from tests import factories
from tests.billing.conftest import SECRET
from tests.subscriptions.conftest import make_catalog


@pytest.fixture
def stripe_settings(settings, localstripe_url):
    settings.PAYMENT_PROVIDER = "stripe"
    settings.STRIPE_SECRET_KEY = "sk_test_masthead"
    settings.STRIPE_API_BASE = localstripe_url
    settings.STRIPE_WEBHOOK_SECRET = SECRET
    return settings


def wait_for(predicate, seconds: float = 15.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(0.2)
    raise AssertionError("timed out waiting for localstripe's webhooks")


@pytest.mark.django_db
def test_customer_is_created_once_per_reader(stripe_settings):
    reader = factories.user("customer@example.com")
    provider = StripeProvider()
    first = provider.customer_for(reader)
    assert first.startswith("cus_")
    assert provider.customer_for(reader) == first
    remote = provider.client.v1.customers.retrieve(first)
    assert (remote.email, remote.metadata["masthead_user_id"]) == (
        "customer@example.com",
        str(reader.pk),
    )
    assert ProviderCustomer.objects.get(user=reader).provider_ref == first


class Inbox(http.server.BaseHTTPRequestHandler):
    """Catches localstripe's signed webhook deliveries (body and Stripe-Signature header)."""

    received: ClassVar[list[tuple[bytes, str]]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.received.append((body, self.headers["Stripe-Signature"]))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def inbox():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Inbox)
    Inbox.received.clear()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()


def deliveries_of(*types: str) -> list[tuple[bytes, str]]:
    """Wait until localstripe has sent events of these types; return every delivery so far."""

    def arrived():
        seen = {json.loads(body)["type"] for body, _ in Inbox.received}
        return set(types) <= seen and list(Inbox.received)

    return wait_for(arrived)


def post(client, body: bytes, signature: str):
    return client.post(
        "/webhooks/stripe/",
        data=body,
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=signature,
    )


@pytest.mark.django_db
def test_localstripe_signs_like_stripe_but_its_older_shape_is_refused(
    stripe_settings, localstripe_url, inbox, client
):
    """localstripe helps with customers, subscriptions and signed deliveries; it answers in
    an API version older than the pinned one (the period on the subscription, not its
    items), so its subscription events are refused as unreadable (400) rather than misread:
    localstripe does not set the shape (the local double and `stripe_shapes` do)."""
    catalog = make_catalog()
    provider = StripeProvider()
    remote_plan = provider.client.v1.plans.create(
        params={
            "id": "masthead-monthly",
            "amount": catalog.monthly.price_minor,
            "currency": "usd",
            "interval": "month",
            "product": {"name": "Monthly"},
        }
    )
    catalog.monthly.stripe_price_id = remote_plan.id
    catalog.monthly.save()
    form = {"url": inbox, "secret": SECRET}
    with urllib.request.urlopen(
        f"{localstripe_url}/_config/webhooks/masthead", urllib.parse.urlencode(form).encode()
    ) as answer:
        assert answer.status == 200
    reader = factories.user("stripe-sub@example.com")
    token = provider.client.v1.tokens.create(
        params={
            "card": {"number": "4242424242424242", "exp_month": 12, "exp_year": 2040, "cvc": "123"}
        }
    )
    remote = provider.create_subscription(user=reader, plan=catalog.monthly, card_token=token.id)
    assert remote.status == "active"

    answers = {}
    for body, signature in deliveries_of("customer.subscription.created"):
        kind = json.loads(body)["type"]
        answers.setdefault(kind, post(client, body, signature).json())
    # The signature is Stripe's (verified), the shape is not the pinned version's.
    assert answers["customer.subscription.created"] == {"error": "invalid_payload"}
    assert {"error": "invalid_signature"} not in answers.values()
    assert not Subscription.objects.filter(provider_ref=remote.id).exists()
    assert not LedgerEntry.objects.exists()
    assert not WebhookEvent.objects.filter(event_type__startswith="customer.subscription").exists()
