"""Every call Masthead makes to Stripe, through the official SDK's `StripeClient`.

The SDK sends the API version it pins (`stripe.api_version`) on every request, so requests and
answers have that version's shape. `STRIPE_API_BASE` points the SDK at a Stripe-compatible
server (the tests' local double on 127.0.0.1, or localstripe). Cards are never entered on
Masthead: Stripe Checkout collects the first one, the Stripe customer portal replaces it and
lists the invoices (decision 0019).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

import stripe
from django.conf import settings

from masthead.billing import provider_events as pe
from masthead.billing.providers import (
    DECLINED_MESSAGE,
    CardDeclined,
    CardDetails,
    Charge,
    ChargeFailed,
    PaymentError,
    PaymentPending,
    SavedCard,
)
from masthead.billing.stripe.events import subscription_state

DAY = 86400
log = logging.getLogger("masthead.billing.stripe")
F = TypeVar("F", bound=Callable[..., Any])


def reader_safe(fn: F) -> F:
    """Stripe's errors (network, API) become a PaymentError the reader may see; card errors
    are handled where a card is charged."""

    @functools.wraps(fn)
    def call(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except stripe.CardError:
            raise
        except stripe.StripeError as exc:
            log.warning("Stripe call %s failed: %s", fn.__name__, exc)
            raise PaymentError(
                "We could not reach our payment provider. Nothing was changed; please try "
                "again in a minute."
            ) from exc

    return call  # type: ignore[return-value]


def live_key(key: str) -> bool:
    return key.startswith(("sk_live_", "rk_live_"))


@dataclass(frozen=True)
class CheckoutSession:
    session_ref: str
    url: str | None
    status: str  # open, complete, expired
    paid: bool
    customer_ref: str
    subscription_ref: str
    client_reference_id: str


@dataclass(frozen=True)
class ChangePreview:
    """What Stripe will invoice now for a plan change, at `proration_date`."""

    amount_due_minor: int
    credit_minor: int
    proration_date: int


def _id(value: Any) -> str:
    return str(getattr(value, "id", value) or "")


class StripeProvider:
    """Stripe through the official SDK. Cards are collected by Stripe, never here."""

    name = "stripe"
    collects_cards_on_site = False

    def __init__(self) -> None:
        self.client = stripe.StripeClient(
            settings.STRIPE_SECRET_KEY or "sk_test_unset",
            base_addresses={"api": settings.STRIPE_API_BASE} if settings.STRIPE_API_BASE else {},
            max_network_retries=2,
        )

    @property
    def livemode(self) -> bool:
        return live_key(settings.STRIPE_SECRET_KEY or "")

    # ------------------------------------------------------------ customers

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
        return str(customer.id)

    def save_card(self, user: Any, card: CardDetails, *, now: datetime) -> SavedCard:
        raise CardDeclined("Cards are entered on Stripe's checkout page, never on this site.")

    # ------------------------------------------------------------ checkout

    def start_checkout(
        self,
        *,
        user: Any,
        plan: Any,
        offer: Any,
        success_url: str,
        cancel_url: str,
        idempotency_key: str | None = None,
        quantity: int = 1,
    ) -> str:
        """A Stripe Checkout URL for the server's price (never a client-sent amount).

        `success_url` gets `session_id={CHECKOUT_SESSION_ID}`, which Stripe fills in, so the
        return page can ask Stripe about that session."""
        if not plan.stripe_price_id:
            raise PaymentError("This plan cannot be bought online yet. Please contact us.")
        joiner = "&" if "?" in success_url else "?"
        params: Any = {
            "mode": "subscription",
            "customer": self.customer_for(user),
            # A group plan's seats are the item's quantity at its per-seat price.
            "line_items": [{"price": plan.stripe_price_id, "quantity": quantity}],
            "success_url": f"{success_url}{joiner}session_id={{CHECKOUT_SESSION_ID}}",
            "cancel_url": cancel_url,
            "client_reference_id": str(user.pk),
            "metadata": {"masthead_plan": plan.slug, "masthead_offer": offer.code if offer else ""},
        }
        if offer is not None and offer.kind == "trial":
            params["subscription_data"] = {"trial_period_days": offer.trial_days}
        options: Any = {"idempotency_key": f"checkout-{idempotency_key}"} if idempotency_key else {}
        session = self.client.v1.checkout.sessions.create(params=params, options=options)
        return str(session.url)

    @reader_safe
    def checkout_session(self, session_ref: str) -> CheckoutSession:
        session = self.client.v1.checkout.sessions.retrieve(session_ref)
        return CheckoutSession(
            session_ref=str(session.id),
            url=session.url,
            status=str(session.status),
            paid=session.payment_status in ("paid", "no_payment_required"),
            customer_ref=_id(session.customer),
            subscription_ref=_id(session.subscription),
            client_reference_id=str(session.client_reference_id or ""),
        )

    # ------------------------------------------------------------ subscriptions

    def subscription(self, subscription_ref: str) -> pe.SubscriptionState:
        """Stripe's current copy of a subscription (the re-fetch when events are in doubt)."""
        remote = self.client.v1.subscriptions.retrieve(subscription_ref)
        return subscription_state(remote.to_dict(), deleted=False)

    @reader_safe
    def cancel_subscription(
        self, subscription_ref: str, *, at_period_end: bool, idempotency_key: str
    ) -> pe.SubscriptionState:
        """Stop renewing at the period end, or (staff) end it at once without a refund."""
        if at_period_end:
            remote = self.client.v1.subscriptions.update(
                subscription_ref,
                params={"cancel_at_period_end": True},
                options={"idempotency_key": idempotency_key},
            )
        else:
            remote = self.client.v1.subscriptions.cancel(
                subscription_ref,
                params={"prorate": False, "invoice_now": False},
                options={"idempotency_key": idempotency_key},
            )
        return subscription_state(remote.to_dict())

    @reader_safe
    def resume_subscription(
        self, subscription_ref: str, *, idempotency_key: str
    ) -> pe.SubscriptionState:
        remote = self.client.v1.subscriptions.update(
            subscription_ref,
            params={"cancel_at_period_end": False},
            options={"idempotency_key": idempotency_key},
        )
        return subscription_state(remote.to_dict())

    @reader_safe
    def pause_subscription(
        self, subscription_ref: str, *, resumes_at: datetime, idempotency_key: str
    ) -> pe.SubscriptionState:
        """Pause collection until `resumes_at`: the invoices Stripe makes meanwhile are voided
        (nothing is charged), and Stripe resumes collecting by itself at that moment."""
        remote = self.client.v1.subscriptions.update(
            subscription_ref,
            params={
                "pause_collection": {
                    "behavior": "void",
                    "resumes_at": int(resumes_at.timestamp()),
                }
            },
            options={"idempotency_key": idempotency_key},
        )
        return subscription_state(remote.to_dict())

    @reader_safe
    def unpause_subscription(
        self, subscription_ref: str, *, idempotency_key: str
    ) -> pe.SubscriptionState:
        """Collect again now (the reader resumed early): `pause_collection` is cleared."""
        remote = self.client.v1.subscriptions.update(
            subscription_ref,
            params={"pause_collection": ""},
            options={"idempotency_key": idempotency_key},
        )
        return subscription_state(remote.to_dict())

    def _item_ref(self, subscription_ref: str) -> str:
        remote = self.client.v1.subscriptions.retrieve(subscription_ref)
        return str(remote["items"]["data"][0]["id"])

    @staticmethod
    def whole_day_proration_date(period_end: datetime, now: datetime) -> int:
        """Prorate by whole days, like Masthead's own preview: the proration moment is the
        period end minus the whole days left (Stripe's `proration_date`)."""
        remaining_days = max(int((period_end - now).total_seconds()) // DAY, 0)
        return int(period_end.timestamp()) - remaining_days * DAY

    @reader_safe
    def preview_plan_change(
        self, subscription_ref: str, *, price_ref: str, proration_date: int, quantity: int = 1
    ) -> ChangePreview:
        """Stripe's own proration for an upgrade that starts a new period now."""
        item = self._item_ref(subscription_ref)
        params: Any = {
            "subscription": subscription_ref,
            "subscription_details": {
                "items": [{"id": item, "price": price_ref, "quantity": quantity}],
                "proration_behavior": "always_invoice",
                "proration_date": proration_date,
                "billing_cycle_anchor": "now",
            },
        }
        preview = self.client.v1.invoices.create_preview(params=params)
        credit = -sum(line.amount for line in preview.lines.data if line.amount < 0)
        return ChangePreview(
            amount_due_minor=int(preview.amount_due),
            credit_minor=int(credit),
            proration_date=proration_date,
        )

    @reader_safe
    def change_plan(
        self,
        subscription_ref: str,
        *,
        price_ref: str,
        immediate: bool,
        proration_date: int,
        idempotency_key: str,
        quantity: int = 1,
    ) -> pe.SubscriptionState:
        """An upgrade invoices now (Stripe's proration at `proration_date`, the payment must
        succeed or nothing changes); a downgrade changes the price with no proration, so the
        next renewal is at the new price."""
        item = self._item_ref(subscription_ref)
        params: Any = {"items": [{"id": item, "price": price_ref, "quantity": quantity}]}
        if immediate:
            params |= {
                "proration_behavior": "always_invoice",
                "proration_date": proration_date,
                "billing_cycle_anchor": "now",
                "payment_behavior": "error_if_incomplete",
            }
        else:
            params |= {"proration_behavior": "none", "billing_cycle_anchor": "unchanged"}
        try:
            remote = self.client.v1.subscriptions.update(
                subscription_ref, params=params, options={"idempotency_key": idempotency_key}
            )
        except stripe.CardError as exc:
            raise ChargeFailed(exc.user_message or DECLINED_MESSAGE) from exc
        return subscription_state(remote.to_dict())

    @reader_safe
    def portal_url(self, user: Any, *, return_url: str) -> str:
        """The Stripe customer portal: the reader's card and invoices (decision 0019)."""
        session = self.client.v1.billing_portal.sessions.create(
            params={"customer": self.customer_for(user), "return_url": return_url}
        )
        return str(session.url)

    # ------------------------------------------------------------ money

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
        """A one-off PaymentIntent; only a `succeeded` one is a payment."""
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
                    "metadata": {"masthead_key": idempotency_key},
                },
                options={"idempotency_key": idempotency_key},
            )
        except stripe.CardError as exc:
            raise ChargeFailed(exc.user_message or DECLINED_MESSAGE) from exc
        if intent.status == "processing":
            # Not paid yet, not refused: pending under its key until reconcile sees it settle.
            raise PaymentPending()
        if intent.status != "succeeded" or int(intent.amount_received) != amount_minor:
            raise ChargeFailed(
                f"The payment was not completed (Stripe status {intent.status})."
                if intent.status != "succeeded"
                else "Stripe received a different amount than was charged."
            )
        return Charge(provider_ref=str(intent.id), amount_minor=amount_minor)

    def payment_for(self, charge_ref: str) -> dict[str, str]:
        """What a refund points at: the PaymentIntent (or charge) that paid an invoice.

        Stripe refunds a payment, never an invoice: an invoice's payments are listed by
        `invoice_payments.list` at the pinned version (`payment.payment_intent`/`charge`)."""
        if charge_ref.startswith("pi_"):
            return {"payment_intent": charge_ref}
        if charge_ref.startswith(("ch_", "py_")):
            return {"charge": charge_ref}
        if charge_ref.startswith("in_"):
            payments = self.client.v1.invoice_payments.list(
                params={"invoice": charge_ref, "status": "paid"}
            )
            for payment in payments.data:
                target = payment.payment
                if target.payment_intent:
                    return {"payment_intent": _id(target.payment_intent)}
                if target.charge:
                    return {"charge": _id(target.charge)}
            raise PaymentError(f"Stripe holds no paid payment for invoice {charge_ref}.")
        raise PaymentError(f"{charge_ref} is not a Stripe payment.")

    def refund(self, *, charge_ref: str, amount_minor: int, idempotency_key: str) -> str:
        params: Any = {
            **self.payment_for(charge_ref),
            "amount": amount_minor,
            "metadata": {"masthead_key": idempotency_key},
        }
        refund = self.client.v1.refunds.create(
            params=params,
            options={"idempotency_key": idempotency_key},
        )
        if refund.status in ("failed", "canceled"):
            raise PaymentError(f"Stripe refused the refund ({refund.status}).")
        return str(refund.id)

    def find_charge(self, *, idempotency_key: str) -> Charge | None:
        """Search PaymentIntents by the key stored in their metadata (Stripe keeps
        idempotency keys for 24 hours only; the metadata stays). Only a succeeded one paid."""
        found = self.client.v1.payment_intents.search(
            params={"query": f"metadata['masthead_key']:'{idempotency_key}'"}
        )
        for intent in found.data:
            if intent.status == "succeeded":
                return Charge(provider_ref=intent.id, amount_minor=int(intent.amount))
        return None

    def find_refund(self, *, idempotency_key: str) -> str | None:
        for refund in self.client.v1.refunds.list(params={"limit": 100}).auto_paging_iter():
            metadata: Any = refund.metadata or {}
            if metadata.get("masthead_key") == idempotency_key:
                return str(refund.id)
        return None

    def create_subscription(self, *, user: Any, plan: Any, card_token: str) -> Any:
        """Server-side subscription for a customer whose card Stripe already holds (used with
        localstripe, which has no Checkout)."""
        customer = self.customer_for(user)
        self.client.v1.customers.payment_sources.create(customer, params={"source": card_token})
        return self.client.v1.subscriptions.create(
            params={"customer": customer, "items": [{"plan": plan.stripe_price_id}]}
        )
