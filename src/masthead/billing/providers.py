"""Payment providers behind one interface.

`test` (the embedded default) needs no network: documented card numbers succeed, decline, or
fail on renewal. `stripe` uses the official SDK; its card collection (Checkout) sits behind
`start_checkout` so tests can replace it. Every charge carries an idempotency key derived from
(subscription, period), so a retried charge is the same charge at the provider too.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar, Protocol

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


class PaymentError(Exception):
    """A reader-facing failure: the message is safe to show."""


class CardDeclined(PaymentError):
    pass


class ChargeFailed(PaymentError):
    pass


@dataclass(frozen=True)
class CardDetails:
    number: str
    exp_month: int
    exp_year: int
    cvc: str


@dataclass(frozen=True)
class SavedCard:
    provider_ref: str
    brand: str
    last4: str
    exp_month: int
    exp_year: int


@dataclass(frozen=True)
class Charge:
    provider_ref: str
    amount_minor: int


class PaymentProvider(Protocol):
    name: str
    collects_cards_on_site: bool

    def save_card(self, user: Any, card: CardDetails, *, now: datetime) -> SavedCard: ...

    def charge(
        self,
        *,
        user: Any,
        card_ref: str,
        amount_minor: int,
        currency: str,
        idempotency_key: str,
        description: str,
        off_session: bool,
    ) -> Charge: ...

    def refund(self, *, charge_ref: str, amount_minor: int, idempotency_key: str) -> str: ...


# The test provider's documented cards (docs/billing.md).
TEST_CARD_SUCCEEDS = "4242424242424242"
TEST_CARD_DECLINED = "4000000000000002"
TEST_CARD_FAILS_ON_RENEWAL = "4000000000000341"
DECLINED_MESSAGE = "Your card was declined. Try another card."


def luhn_valid(number: str) -> bool:
    digits = [int(d) for d in number]
    checksum = 0
    for index, digit in enumerate(reversed(digits)):
        if index % 2 == 1:
            digit *= 2
            if digit > 9:
                digit -= 9
        checksum += digit
    return checksum % 10 == 0


def card_brand(number: str) -> str:
    if number.startswith("4"):
        return "Visa"
    if number[:2] in {"51", "52", "53", "54", "55"} or "2221" <= number[:4] <= "2720":
        return "Mastercard"
    if number[:2] in {"34", "37"}:
        return "American Express"
    return "Card"


def _digest(*parts: str) -> str:
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:24]


class TestProvider:
    """Built-in provider for the demo and tests: no network, behaviour chosen by card number.

    - 4242 4242 4242 4242 always succeeds;
    - 4000 0000 0000 0002 is declined when entered;
    - 4000 0000 0000 0341 is accepted and pays at checkout, then every renewal fails.
    """

    name = "test"
    collects_cards_on_site = True
    __test__ = False  # not a pytest class
    _BEHAVIOUR = {TEST_CARD_SUCCEEDS: "ok", TEST_CARD_FAILS_ON_RENEWAL: "renewalfails"}

    def save_card(self, user: Any, card: CardDetails, *, now: datetime) -> SavedCard:
        if card.number == TEST_CARD_DECLINED:
            raise CardDeclined(DECLINED_MESSAGE)
        behaviour = self._BEHAVIOUR.get(card.number)
        if behaviour is None:
            raise CardDeclined(
                "This is the test payment provider: use a test card such as 4242 4242 4242 4242."
            )
        token = _digest(str(user.pk), card.number[-4:], str(now.timestamp()))
        return SavedCard(
            provider_ref=f"test_pm_{behaviour}_{token}",
            brand=card_brand(card.number),
            last4=card.number[-4:],
            exp_month=card.exp_month,
            exp_year=card.exp_year,
        )

    def charge(
        self,
        *,
        user: Any,
        card_ref: str,
        amount_minor: int,
        currency: str,
        idempotency_key: str,
        description: str,
        off_session: bool,
    ) -> Charge:
        if off_session and card_ref.startswith("test_pm_renewalfails_"):
            raise ChargeFailed("The card was declined on renewal (test card ...0341).")
        # Deterministic per idempotency key, like a provider answering a retried request.
        return Charge(provider_ref=f"test_ch_{_digest(idempotency_key)}", amount_minor=amount_minor)

    def refund(self, *, charge_ref: str, amount_minor: int, idempotency_key: str) -> str:
        return f"test_re_{_digest(idempotency_key)}"


class StripeProvider:
    """Stripe through the official SDK. Cards are collected by Stripe Checkout, never here."""

    name = "stripe"
    collects_cards_on_site = False
    _CHECKOUT_MODES: ClassVar[dict[str, str]] = {"subscription": "subscription"}

    def __init__(self) -> None:
        import stripe

        self.client = stripe.StripeClient(
            settings.STRIPE_SECRET_KEY or "sk_test_unset",
            base_addresses={"api": settings.STRIPE_API_BASE} if settings.STRIPE_API_BASE else {},
        )

    def customer_for(self, user: Any) -> str:
        from masthead.billing.models import ProviderCustomer

        existing = ProviderCustomer.objects.filter(user=user, provider=self.name).first()
        if existing:
            return existing.provider_ref
        customer = self.client.v1.customers.create(
            params={"email": user.email, "metadata": {"masthead_user_id": str(user.pk)}},
            options={"idempotency_key": f"customer-{user.pk}"},
        )
        ProviderCustomer.objects.get_or_create(
            user=user, provider=self.name, defaults={"provider_ref": customer.id}
        )
        return customer.id

    def save_card(self, user: Any, card: CardDetails, *, now: datetime) -> SavedCard:
        raise CardDeclined("Cards are entered on Stripe's checkout page.")

    def start_checkout(
        self, *, user: Any, plan: Any, offer: Any, success_url: str, cancel_url: str
    ) -> str:
        """A Stripe Checkout URL for the server's price (never a client-sent amount)."""
        params: Any = {
            "mode": "subscription",
            "customer": self.customer_for(user),
            "line_items": [{"price": plan.stripe_price_id, "quantity": 1}],
            "success_url": success_url,
            "cancel_url": cancel_url,
            "client_reference_id": str(user.pk),
            "metadata": {"masthead_plan": plan.slug, "masthead_offer": offer.code if offer else ""},
        }
        if offer is not None and offer.kind == "trial":
            params["subscription_data"] = {"trial_period_days": offer.trial_days}
        session = self.client.v1.checkout.sessions.create(params=params)
        return str(session.url)

    def create_subscription(self, *, user: Any, plan: Any, card_token: str) -> Any:
        """Server-side subscription for a customer whose card Stripe already holds."""
        customer = self.customer_for(user)
        self.client.v1.customers.payment_sources.create(customer, params={"source": card_token})
        return self.client.v1.subscriptions.create(
            params={"customer": customer, "items": [{"plan": plan.stripe_price_id}]}
        )

    def charge(
        self,
        *,
        user: Any,
        card_ref: str,
        amount_minor: int,
        currency: str,
        idempotency_key: str,
        description: str,
        off_session: bool,
    ) -> Charge:
        import stripe

        try:
            intent = self.client.v1.payment_intents.create(
                params={
                    "amount": amount_minor,
                    "currency": currency.lower(),
                    "customer": self.customer_for(user),
                    "payment_method": card_ref,
                    "confirm": True,
                    "off_session": off_session,
                    "description": description,
                },
                options={"idempotency_key": idempotency_key},
            )
        except stripe.CardError as exc:
            raise ChargeFailed(exc.user_message or DECLINED_MESSAGE) from exc
        return Charge(provider_ref=intent.id, amount_minor=amount_minor)

    def refund(self, *, charge_ref: str, amount_minor: int, idempotency_key: str) -> str:
        refund = self.client.v1.refunds.create(
            params={"payment_intent": charge_ref, "amount": amount_minor},
            options={"idempotency_key": idempotency_key},
        )
        return str(refund.id)


PROVIDERS: dict[str, type] = {"test": TestProvider, "stripe": StripeProvider}


class UnknownProvider(ImproperlyConfigured):
    """PAYMENT_PROVIDER (or a stored provider name) names no provider; check masthead.E015."""


def get_provider(name: str | None = None) -> Any:
    """The provider named in settings.PAYMENT_PROVIDER (or `name`, for existing subscriptions)."""
    chosen = name or settings.PAYMENT_PROVIDER
    if chosen not in PROVIDERS:
        raise UnknownProvider(
            f"Payment provider {chosen!r} is unknown; set PAYMENT_PROVIDER to one of "
            f"{', '.join(sorted(PROVIDERS))} (`masthead check` reports this as masthead.E015)."
        )
    return PROVIDERS[chosen]()
