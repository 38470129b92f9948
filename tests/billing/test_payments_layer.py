"""The payments layer on its own: providers (the Stripe calls against a recording stub of
the SDK client), the test provider's books, cards, ledger and payment rows."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import pytest
import stripe

from masthead.billing import payments
from masthead.billing.forms import CardCheckoutForm
from masthead.billing.models import (
    LedgerEntry,
    Payment,
    PaymentKind,
    PaymentMethod,
    PaymentStatus,
    ProviderCustomer,
    TestProviderRecord,
    WebhookEvent,
)
from masthead.billing.providers import (
    CardDeclined,
    CardDetails,
    ChargeFailed,
    StripeProvider,
    TestProvider,
    card_brand,
    get_provider,
    luhn_valid,
)
from masthead.billing.webhooks import apply_event
from masthead.core.money import format_money
from tests import factories

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 10, 1, 16, 0, tzinfo=UTC)


class Recorder:
    """Stands in for one SDK resource: records each call, answers with `answer`."""

    def __init__(self, calls: list, name: str, answer: Any = None, error: Exception | None = None):
        self.calls, self.name, self.answer, self.error = calls, name, answer, error

    def __getattr__(self, method: str):
        def call(*args: Any, **kwargs: Any) -> Any:
            self.calls.append((self.name, method, args, kwargs))
            if self.error is not None:
                raise self.error
            return self.answer

        return call


def stub_stripe(**resources: Recorder) -> tuple[StripeProvider, list]:
    provider = StripeProvider()
    calls: list = []
    for recorder in resources.values():
        recorder.calls = calls
    provider.client = SimpleNamespace(  # type: ignore[assignment]
        v1=SimpleNamespace(
            customers=resources.get(
                "customers", Recorder(calls, "customers", SimpleNamespace(id="cus_1"))
            ),
            payment_intents=resources.get("payment_intents", Recorder(calls, "payment_intents")),
            refunds=resources.get("refunds", Recorder(calls, "refunds")),
            checkout=SimpleNamespace(
                sessions=resources.get("sessions", Recorder(calls, "sessions"))
            ),
        )
    )
    return provider, calls


def test_stripe_charge_sends_the_key_as_idempotency_key_and_metadata():
    reader = factories.user()
    intent = SimpleNamespace(id="pi_1", status="succeeded", amount=1500, amount_received=1500)
    provider, calls = stub_stripe(payment_intents=Recorder([], "payment_intents", intent))
    charge = provider.charge(
        user=reader,
        card_ref="pm_1",
        amount_minor=1500,
        currency="USD",
        idempotency_key="sub-1-period-2",
        description="Monthly renewal",
        off_session=True,
    )
    assert (charge.provider_ref, charge.amount_minor) == ("pi_1", 1500)
    customer_call, intent_call = calls
    assert customer_call[1] == "create"
    assert customer_call[3]["options"] == {"idempotency_key": f"customer-{reader.pk}"}
    params, options = intent_call[3]["params"], intent_call[3]["options"]
    assert options == {"idempotency_key": "sub-1-period-2"}
    assert params["metadata"] == {"masthead_key": "sub-1-period-2"}
    assert (params["amount"], params["currency"], params["off_session"]) == (1500, "usd", True)
    assert ProviderCustomer.objects.get(user=reader).provider_ref == "cus_1"


def test_stripe_card_error_is_a_charge_failure_with_stripes_message():
    reader = factories.user()
    ProviderCustomer.objects.create(user=reader, provider="stripe", provider_ref="cus_9")
    error = stripe.CardError("Your card has insufficient funds.", None, "card_declined")
    provider, _ = stub_stripe(payment_intents=Recorder([], "payment_intents", error=error))
    with pytest.raises(ChargeFailed, match="insufficient funds"):
        provider.charge(
            user=reader,
            card_ref="pm_1",
            amount_minor=100,
            currency="usd",
            idempotency_key="k",
            description="d",
            off_session=False,
        )


def test_stripe_refund_and_lookups_by_key():
    search = SimpleNamespace(
        data=[
            SimpleNamespace(id="pi_failed", status="requires_payment_method", amount=100),
            SimpleNamespace(id="pi_ok", status="succeeded", amount=1500),
        ]
    )
    refunds = SimpleNamespace(
        auto_paging_iter=lambda: iter(
            [
                SimpleNamespace(id="re_other", metadata={"masthead_key": "refund-1-1"}),
                SimpleNamespace(id="re_1", metadata={"masthead_key": "refund-7-1"}),
            ]
        )
    )

    class Refunds(Recorder):
        def create(self, **kwargs: Any) -> Any:
            self.calls.append(("refunds", "create", (), kwargs))
            return SimpleNamespace(id="re_1", status="succeeded")

        def list(self, **kwargs: Any) -> Any:
            return refunds

    provider, calls = stub_stripe(
        payment_intents=Recorder([], "payment_intents", search), refunds=Refunds([], "refunds")
    )
    assert (
        provider.refund(charge_ref="pi_ok", amount_minor=500, idempotency_key="refund-7-1")
        == "re_1"
    )
    assert calls[-1][3]["params"] == {
        "payment_intent": "pi_ok",
        "amount": 500,
        "metadata": {"masthead_key": "refund-7-1"},
    }
    found = provider.find_charge(idempotency_key="sub-1-period-2")
    assert (found.provider_ref, found.amount_minor) == ("pi_ok", 1500)
    assert calls[-1][3]["params"] == {"query": "metadata['masthead_key']:'sub-1-period-2'"}
    assert provider.find_refund(idempotency_key="refund-7-1") == "re_1"
    assert provider.find_refund(idempotency_key="refund-8-1") is None
    provider.client.v1.payment_intents = Recorder([], "pi", SimpleNamespace(data=[]))
    assert provider.find_charge(idempotency_key="nothing") is None


def test_stripe_checkout_uses_the_servers_price_and_the_trial_days(catalog):
    reader = factories.user()
    catalog.monthly.stripe_price_id = "price_monthly"
    provider, calls = stub_stripe(
        sessions=Recorder([], "sessions", SimpleNamespace(url="https://checkout.example/s"))
    )
    url = provider.start_checkout(
        user=reader,
        plan=catalog.monthly,
        offer=catalog.trial,
        success_url="http://testserver/checkout/return/",
        cancel_url="http://testserver/offers/",
    )
    assert url == "https://checkout.example/s"
    params = calls[-1][3]["params"]
    assert params["line_items"] == [{"price": "price_monthly", "quantity": 1}]
    assert params["subscription_data"] == {"trial_period_days": 14}
    assert params["metadata"] == {"masthead_plan": "monthly", "masthead_offer": "free-trial"}
    with pytest.raises(CardDeclined, match="Stripe's checkout page"):
        provider.save_card(reader, CardDetails("4242424242424242", 1, 2030, "123"), now=NOW)


def test_test_provider_keeps_one_charge_per_key_and_answers_lookups():
    reader = factories.user()
    provider = get_provider("test")
    first = provider.charge(
        user=reader,
        card_ref="test_pm_ok_x",
        amount_minor=900,
        currency="USD",
        idempotency_key="checkout-abc",
        description="d",
        off_session=False,
    )
    again = provider.charge(
        user=reader,
        card_ref="test_pm_ok_x",
        amount_minor=900,
        currency="USD",
        idempotency_key="checkout-abc",
        description="d",
        off_session=False,
    )
    assert first == again
    assert TestProviderRecord.objects.count() == 1
    assert provider.find_charge(idempotency_key="checkout-abc") == first
    assert provider.find_charge(idempotency_key="checkout-other") is None
    ref = provider.refund(
        charge_ref=first.provider_ref, amount_minor=100, idempotency_key="refund-1-1"
    )
    assert provider.find_refund(idempotency_key="refund-1-1") == ref
    assert provider.find_refund(idempotency_key="refund-1-2") is None
    assert str(TestProviderRecord.objects.first()) == f"charge {first.provider_ref} 900"


@pytest.mark.parametrize(
    ("number", "brand"),
    [
        ("4242424242424242", "Visa"),
        ("5555555555554444", "Mastercard"),
        ("2223003122003222", "Mastercard"),
        ("378282246310005", "American Express"),
        ("6011111111111117", "Card"),
    ],
)
def test_card_brands_and_luhn(number, brand):
    assert card_brand(number) == brand
    assert luhn_valid(number)
    assert not luhn_valid(number[:-1] + str((int(number[-1]) + 1) % 10))


def test_the_test_provider_refuses_unknown_and_declined_cards():
    reader = factories.user()
    with pytest.raises(CardDeclined, match="use a test card"):
        TestProvider().save_card(reader, CardDetails("5555555555554444", 1, 2030, "123"), now=NOW)
    with pytest.raises(CardDeclined, match="declined"):
        TestProvider().save_card(reader, CardDetails("4000000000000002", 1, 2030, "123"), now=NOW)


@pytest.mark.parametrize(
    ("expiry", "message"),
    [("13/30", "between 01 and 12"), ("1/2020", "has expired"), ("0830", "MM/YY")],
)
def test_card_form_refuses_bad_expiry_dates(expiry, message):
    form = CardCheckoutForm(
        {"checkout_key": "k" * 32, "number": "4242 4242 4242 4242", "expiry": expiry, "cvc": "123"},
        now=NOW,
    )
    assert not form.is_valid()
    assert message in form.errors["expiry"][0]


def test_payment_rows_read_well_and_zero_amounts_need_no_provider():
    reader = factories.user()
    payment = Payment.objects.create(
        user=reader,
        kind=PaymentKind.CHARGE,
        subject="checkout-free",
        idempotency_key="checkout-free",
        purpose="subscribe",
        amount_minor=0,
        currency="EUR",
        provider="test",
        description="Free month",
        at=NOW,
    )
    assert str(payment) == "checkout-free charge €0 (pending)"
    assert payments.collect(payment) == payments.Outcome(True, "")
    assert payments.lookup(payment) == payments.Outcome(True, "")
    assert TestProviderRecord.objects.count() == 0
    payment.status = PaymentStatus.SUCCEEDED
    payment.provider_ref = "test_ch_1"
    assert payments.collect(payment) == payments.Outcome(True, "test_ch_1")
    assert payments.mark_failed(payment, "late") is True  # it was still pending in the table
    assert payments.mark_failed(payment, "again") is False


def test_model_labels(catalog):
    reader = factories.user()
    method = PaymentMethod.objects.create(
        user=reader,
        provider="test",
        provider_ref="pm",
        brand="Visa",
        last4="4242",
        exp_month=1,
        exp_year=2030,
    )
    assert str(method) == "Visa ending 4242"
    customer = ProviderCustomer.objects.create(user=reader, provider="stripe", provider_ref="cus_5")
    assert str(customer) == "stripe:cus_5"
    event = WebhookEvent.objects.create(
        provider="stripe",
        event_id="evt_1",
        event_type="invoice.paid",
        created=NOW,
        status="applied",
        payload={},
    )
    assert str(event) == "evt_1 invoice.paid (applied)"
    assert format_money(-150, "usd") == "-$1.50"
    assert format_money(1500, "JPY") == "¥1,500"
    assert format_money(1234, "CHF") == "12.34 CHF"
    assert LedgerEntry.objects.count() == 0


def test_an_event_of_a_provider_without_an_applier_is_ignored():
    from masthead.billing.webhooks import Ignored

    with pytest.raises(Ignored, match="no applier registered for paypal events"):
        apply_event("paypal", {"type": "x"})
