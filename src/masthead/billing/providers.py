"""Payment providers behind one interface.

`test` (the embedded default) needs no network: documented card numbers succeed, decline, or
fail on renewal. `stripe` (`billing/stripe/provider.py`) uses the official SDK at the API
version it pins; cards are collected by Stripe Checkout and replaced in the Stripe customer
portal. Every charge carries an idempotency key derived from (subscription, period), so a
retried charge is the same charge at the provider too.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


class PaymentError(Exception):
    """A reader-facing failure: the message is safe to show."""


class CardDeclined(PaymentError):
    pass


class ChargeFailed(PaymentError):
    """The provider answered no (a decline): definitive, nothing was taken."""


class PaymentPending(PaymentError):
    """The provider's answer is unknown (a timeout, a crash before we recorded it). The
    payment stays pending under its idempotency key; the reconcile job settles it."""

    def __init__(self, message: str = "") -> None:
        super().__init__(
            message
            or "We could not confirm the payment with the payment provider yet. It will be "
            "confirmed within a few minutes; you will not be charged twice."
        )


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

    def find_charge(self, *, idempotency_key: str) -> Charge | None:
        """The succeeded charge made with this key, or None if the provider never made one."""
        ...

    def find_refund(self, *, idempotency_key: str) -> str | None:
        """The refund made with this key, or None if the provider never made one."""
        ...


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
        from masthead.billing.models import PaymentKind, TestProviderRecord

        if off_session and card_ref.startswith("test_pm_renewalfails_"):
            raise ChargeFailed("The card was declined on renewal (test card ...0341).")
        # One charge per idempotency key, like a provider answering a retried request.
        record, _ = TestProviderRecord.objects.get_or_create(
            idempotency_key=idempotency_key,
            defaults={
                "kind": PaymentKind.CHARGE,
                "provider_ref": f"test_ch_{_digest(idempotency_key)}",
                "amount_minor": amount_minor,
            },
        )
        return Charge(provider_ref=record.provider_ref, amount_minor=record.amount_minor)

    def refund(self, *, charge_ref: str, amount_minor: int, idempotency_key: str) -> str:
        from masthead.billing.models import PaymentKind, TestProviderRecord

        record, _ = TestProviderRecord.objects.get_or_create(
            idempotency_key=idempotency_key,
            defaults={
                "kind": PaymentKind.REFUND,
                "provider_ref": f"test_re_{_digest(idempotency_key)}",
                "amount_minor": amount_minor,
            },
        )
        return record.provider_ref

    def find_charge(self, *, idempotency_key: str) -> Charge | None:
        from masthead.billing.models import PaymentKind, TestProviderRecord

        record = TestProviderRecord.objects.filter(
            idempotency_key=idempotency_key, kind=PaymentKind.CHARGE
        ).first()
        return Charge(record.provider_ref, record.amount_minor) if record else None

    def find_refund(self, *, idempotency_key: str) -> str | None:
        from masthead.billing.models import PaymentKind, TestProviderRecord

        record = TestProviderRecord.objects.filter(
            idempotency_key=idempotency_key, kind=PaymentKind.REFUND
        ).first()
        return record.provider_ref if record else None


def __getattr__(name: str) -> Any:
    """`providers.StripeProvider` stays importable; it lives in `billing/stripe/provider.py`
    (imported lazily: that module imports this one)."""
    if name == "StripeProvider":
        from masthead.billing.stripe.provider import StripeProvider

        return StripeProvider
    raise AttributeError(name)


def _stripe() -> Any:
    from masthead.billing.stripe.provider import StripeProvider

    return StripeProvider()


PROVIDERS: dict[str, Any] = {"test": TestProvider, "stripe": _stripe}


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
