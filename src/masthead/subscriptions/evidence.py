"""The evidence bundle of one subscription, for a dispute or a regulator: the terms and the
consent given, the notices sent (with their text), the charges and refunds from the ledger,
and the cancellation. Read-only; staff download it from the admin (docs/renewals.md)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from masthead.billing.models import LedgerEntry
from masthead.subscriptions.models import (
    ConsentRecord,
    EventKind,
    RenewalNotice,
    Subscription,
    SubscriptionEvent,
)

FORMAT = "masthead.evidence/1"


def _at(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _email(user: Any) -> str:
    return user.email if user is not None else ""


def consents_for(sub: Subscription) -> list[ConsentRecord]:
    """Its own consent rows, and a provider checkout's (kept by the checkout's form key)."""
    rows = ConsentRecord.objects.filter(subscription=sub)
    if not rows.exists() and sub.provider_ref:
        rows = ConsentRecord.objects.filter(
            subscription__isnull=True, user=sub.user_id, plan=sub.plan_id
        )
    return list(rows.select_related("plan", "offer").order_by("consented_at", "pk"))


def bundle(sub: Subscription, *, now: datetime) -> dict[str, Any]:
    sub = Subscription.objects.select_related("user", "plan", "offer").get(pk=sub.pk)
    events = list(
        SubscriptionEvent.objects.filter(subscription=sub)
        .select_related("actor")
        .order_by("at", "pk")
    )
    ledger = LedgerEntry.objects.filter(subscription=sub).order_by("at", "pk")
    notices = RenewalNotice.objects.filter(subscription=sub).order_by("sent_at", "pk")
    return {
        "format": FORMAT,
        "generated_at": now.isoformat(),
        "subscription": {
            "id": sub.pk,
            "reader": {"id": sub.user_id, "email": sub.user.email},
            "plan": {
                "slug": sub.plan.slug,
                "name": sub.plan.name,
                "interval": sub.plan.interval,
                "price_minor": sub.plan.price_minor,
                "currency": sub.plan.currency,
            },
            "offer": sub.offer.code if sub.offer else None,
            "status": sub.status,
            "auto_renew": sub.auto_renew,
            "started_at": _at(sub.started_at),
            "current_period_start": _at(sub.current_period_start),
            "current_period_end": _at(sub.current_period_end),
            "provider": sub.provider,
            "provider_ref": sub.provider_ref,
        },
        "consent": [
            {
                "id": row.pk,
                "consented_at": _at(row.consented_at),
                "terms_text": row.terms_text,
                "terms_sha256": row.terms_sha256,
                "plan": row.plan.slug,
                "offer": row.offer.code if row.offer else None,
                "network": row.network,
                "user_agent": row.user_agent,
                "checkout_key": row.checkout_key,
            }
            for row in consents_for(sub)
        ],
        "notices": [
            {
                "id": notice.pk,
                "kind": notice.kind,
                "key": notice.key,
                "sent_at": _at(notice.sent_at),
                "renews_at": _at(notice.renews_at),
                "price_minor": notice.price_minor,
                "currency": notice.currency,
                "late": notice.late,
                "to": notice.to_email,
                "subject": notice.subject,
                "body": notice.body,
            }
            for notice in notices
        ],
        "ledger": [
            {
                "id": entry.pk,
                "kind": entry.kind,
                "at": _at(entry.at),
                "amount_minor": entry.amount_minor,
                "currency": entry.currency,
                "period_number": entry.period_number,
                "period_start": _at(entry.period_start),
                "period_end": _at(entry.period_end),
                "description": entry.description,
                "refund_of": entry.related_id,
                "reason": entry.reason,
            }
            for entry in ledger
        ],
        "cancellation": {
            "cancelled_at": _at(sub.cancelled_at),
            "ended_at": _at(sub.ended_at),
            "events": [
                {
                    "at": _at(event.at),
                    "kind": event.kind,
                    "by": _email(event.actor),
                    "reason": event.reason,
                }
                for event in events
                if event.kind in (EventKind.CANCELLED, EventKind.RESUMED, EventKind.EXPIRED)
            ],
        },
        "history": [
            {
                "at": _at(event.at),
                "kind": event.kind,
                "from": event.from_status,
                "to": event.to_status,
                "by": _email(event.actor),
                "reason": event.reason,
            }
            for event in events
        ],
    }
