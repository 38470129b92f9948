"""Two-phase money, the provider side (decision 0018).

1. The caller writes a pending `Payment` keyed by an idempotency key, in a transaction of
   its own (`open_payment`), and commits.
2. `collect` calls the provider with no lock held and no transaction open. A decline marks
   the payment failed and raises ChargeFailed; any other failure (a timeout, a dropped
   connection) leaves it pending and raises PaymentPending.
3. The caller settles it in a second transaction: its ledger row, its history row, and
   `status=succeeded`, all or nothing.

Whatever stays pending (the provider timed out, or our commit failed after the provider
said yes) is settled by the reconcile job: `lookup` asks the provider by the same key.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import connection, transaction

from masthead.billing.models import Payment, PaymentKind, PaymentStatus
from masthead.billing.providers import PaymentError, PaymentPending, get_provider

log = logging.getLogger("masthead.billing.payments")


class TransactionOpen(RuntimeError):
    """A provider call was attempted while a database transaction (and its locks) is open."""


def assert_no_transaction() -> None:
    """Provider calls never run inside a transaction (a test's own wrapper excepted)."""
    if any(not getattr(block, "_from_testcase", False) for block in connection.atomic_blocks):
        raise TransactionOpen("The payment provider must not be called inside a transaction.")


@dataclass(frozen=True)
class Outcome:
    """What the provider did with a payment: `succeeded` with its reference, or not."""

    succeeded: bool
    provider_ref: str = ""


def latest(subject: str) -> Payment | None:
    return Payment.objects.filter(subject=subject).order_by("-pk").first()


def open_payment(*, subject: str, **fields: Any) -> Payment:
    """A new pending attempt for `subject` (inside the caller's transaction). The first
    attempt's key is the subject itself; later attempts (after a decline) add a number."""
    attempt = Payment.objects.filter(subject=subject).count() + 1
    key = subject if attempt == 1 else f"{subject}-attempt-{attempt}"
    return Payment.objects.create(subject=subject, idempotency_key=key, **fields)


def collect(payment: Payment) -> Outcome:
    """Phase 2: ask the provider to move the money. No lock, no transaction."""
    if payment.status == PaymentStatus.SUCCEEDED:
        return Outcome(True, payment.provider_ref)
    if payment.amount_minor == 0:
        return Outcome(True, "")
    assert_no_transaction()
    provider = get_provider(payment.provider)
    try:
        if payment.kind == PaymentKind.CHARGE:
            charge = provider.charge(
                user=payment.user,
                card_ref=payment.card_ref,
                amount_minor=payment.amount_minor,
                currency=payment.currency,
                idempotency_key=payment.idempotency_key,
                description=payment.description,
                off_session=payment.off_session,
            )
            ref = charge.provider_ref
        else:
            ref = provider.refund(
                charge_ref=payment.charge_ref,
                amount_minor=payment.amount_minor,
                idempotency_key=payment.idempotency_key,
            )
    except PaymentPending:
        raise
    except PaymentError as exc:  # a decline: definitive
        mark_failed(payment, str(exc))
        raise
    except Exception as exc:
        log.warning("payment %s: outcome unknown (%s)", payment.idempotency_key, exc)
        raise PaymentPending() from exc
    return Outcome(True, str(ref))


def mark_failed(payment: Payment, error: str, *, now: datetime | None = None) -> bool:
    """A pending payment that moved no money (`now`: nothing further to record, e.g. it
    never reached the provider). False if it was settled meanwhile."""
    with transaction.atomic():
        changed = Payment.objects.filter(pk=payment.pk, status=PaymentStatus.PENDING).update(
            status=PaymentStatus.FAILED, error=error[:2000], settled_at=now
        )
    payment.status, payment.error = PaymentStatus.FAILED, error
    return bool(changed)


def lock(payment: Payment) -> Payment:
    return Payment.objects.select_for_update().select_related("user").get(pk=payment.pk)


def mark_succeeded(payment: Payment, outcome: Outcome, *, now: datetime) -> None:
    """Inside the settling transaction, with the ledger row."""
    payment.status = PaymentStatus.SUCCEEDED
    payment.provider_ref = outcome.provider_ref
    payment.settled_at = now
    payment.error = ""
    payment.save(update_fields=["status", "provider_ref", "settled_at", "error"])


def lookup(payment: Payment) -> Outcome:
    """Ask the provider what became of a pending payment (the reconcile job)."""
    if payment.amount_minor == 0:
        return Outcome(True, "")
    assert_no_transaction()
    provider = get_provider(payment.provider)
    if payment.kind == PaymentKind.CHARGE:
        charge = provider.find_charge(idempotency_key=payment.idempotency_key)
        return Outcome(True, charge.provider_ref) if charge else Outcome(False)
    ref = provider.find_refund(idempotency_key=payment.idempotency_key)
    return Outcome(True, ref) if ref else Outcome(False)


def pending(*, before: datetime) -> list[Payment]:
    return list(
        Payment.objects.filter(status=PaymentStatus.PENDING, at__lte=before).order_by("at", "pk")
    )
