"""A reader's data: everything Masthead holds about them (export), and its erasure.

`erase_reader` is the one action behind "Delete my account" and the staff admin action:

1. A live subscription is cancelled first through the existing action (`actions.cancel`,
   at once), which stops it at the provider before anything here changes.
2. In one transaction: the account keeps its row (money history points at it) under a
   pseudonym (`erased-<random>`, e-mail `<pseudonym>@erased.invalid`), names cleared, password
   unusable, inactive; e-mail addresses, app tokens, remembered mailboxes, saved cards,
   sessions and meter data are deleted; the bodies of e-mails sent to them are removed; every
   remaining text that names them (ledger descriptions, subscription events, webhook
   payloads, admin log entries, task failures...) has the old e-mail, username and name
   replaced by the pseudonym; what the reader wrote in their own words when cancelling is
   removed whole. The ledger's amounts, currencies and dates are untouched, so
   money history stays whole. An `AccountErasure` row records who asked, who did it, when
   and why.
3. On commit, the reader's meter counters in Redis are deleted.

Append-only history rows are not deleted: `_pseudonymise` is the single place allowed to
rewrite personal text in them (decision 0028).
"""

from __future__ import annotations

import json
import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from allauth.account.models import EmailAddress
from django.apps import apps
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.sessions.models import Session
from django.db import models, transaction

from masthead.accounts.models import (
    AccountErasure,
    AccountEvent,
    AppToken,
    PersonalToken,
    SessionEpoch,
)
from masthead.billing.models import LedgerEntry, Payment, PaymentMethod
from masthead.core.models import OutboxEmail, ReaderMailbox
from masthead.metering.models import MeteredRead, ReaderMeter
from masthead.subscriptions import actions as subscription_actions
from masthead.subscriptions.models import EventKind, Status, Subscription, SubscriptionEvent

ERASED_DOMAIN = "erased.invalid"
TEXT_FIELDS = (models.CharField, models.TextField, models.JSONField)
# Published content is the newsroom's, not the reader's: never rewritten by an erasure.
CONTENT_APPS = {"newsroom", "wagtailcore", "wagtailimages", "wagtaildocs", "taggit"}


def meter_key(user_id: int) -> str:
    return f"u:{user_id}"


def reader_sessions(user_id: int) -> list[Session]:
    """The reader's live sessions (sessions store the user id inside their signed data)."""
    found = []
    for session in Session.objects.all().iterator():
        try:
            data = session.get_decoded()
        except Exception:  # a session signed with an old key is nobody's
            continue
        if str(data.get("_auth_user_id")) == str(user_id):
            found.append(session)
    return found


def personal_values(user: Any) -> list[str]:
    """The texts that identify the reader, longest first (replaced before their parts)."""
    values = {user.email, user.get_username(), user.get_full_name()}
    values |= set(EmailAddress.objects.filter(user=user).values_list("email", flat=True))
    values |= set(ReaderMailbox.objects.filter(user=user).values_list("address", flat=True))
    return sorted((v for v in values if v and len(v.strip()) >= 3), key=len, reverse=True)


# ---- export ---------------------------------------------------------------------------------


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def emails_to(addresses: list[str]) -> list[OutboxEmail]:
    rows: dict[int, OutboxEmail] = {}
    for address in addresses:
        for email in OutboxEmail.objects.filter(to__icontains=address):
            if address.lower() in (a.lower() for a in email.to):
                rows[email.pk] = email
    return sorted(rows.values(), key=lambda e: (e.created_at, e.pk))


def export_reader(user: Any) -> dict[str, Any]:
    """Everything Masthead holds about one reader, as JSON-ready data (only their rows)."""
    addresses = list(EmailAddress.objects.filter(user=user).order_by("pk"))
    subscriptions = Subscription.objects.filter(user=user).select_related("plan").order_by("pk")
    return {
        "format": "masthead-reader-data/1",
        "profile": {
            "id": user.pk,
            "email": user.email,
            "username": user.get_username(),
            "first_name": user.first_name,
            "last_name": user.last_name,
            "date_joined": _iso(user.date_joined),
            "last_login": _iso(user.last_login),
            "email_addresses": [
                {"email": a.email, "primary": a.primary, "verified": a.verified} for a in addresses
            ],
        },
        "reads_counted": [
            {
                "article_id": r.article_id,
                "period": r.period_key,
                "read_at": _iso(r.read_at),
                "source": r.source,
            }
            for r in MeteredRead.objects.filter(reader_key=meter_key(user.pk)).order_by("pk")
        ],
        "subscriptions": [
            {
                "id": s.pk,
                "plan": s.plan.name,
                "status": s.status,
                "started_at": _iso(s.started_at),
                "current_period_end": _iso(s.current_period_end),
                "events": [
                    {"kind": e.kind, "at": _iso(e.at), "from": e.from_status, "to": e.to_status}
                    for e in SubscriptionEvent.objects.filter(subscription=s).order_by("pk")
                ],
            }
            for s in subscriptions
        ],
        "payments": [
            {
                "id": p.pk,
                "kind": p.kind,
                "status": p.status,
                "amount_minor": p.amount_minor,
                "currency": p.currency,
                "description": p.description,
                "at": _iso(p.at),
                "settled_at": _iso(p.settled_at),
            }
            for p in Payment.objects.filter(user=user).order_by("pk")
        ],
        "ledger": [
            {
                "kind": e.kind,
                "amount_minor": e.amount_minor,
                "currency": e.currency,
                "description": e.description,
                "at": _iso(e.at),
            }
            for e in LedgerEntry.objects.filter(user=user).order_by("pk")
        ],
        "payment_methods": [
            {"brand": m.brand, "last4": m.last4}
            for m in PaymentMethod.objects.filter(user=user).order_by("pk")
        ],
        "emails_sent": [
            {
                "kind": e.kind,
                "subject": e.subject,
                "to": e.to,
                "status": e.status,
                "created_at": _iso(e.created_at),
                "sent_at": _iso(e.sent_at),
                "body": e.body,
            }
            for e in emails_to([a.email for a in addresses] or [user.email])
        ],
        # Masthead asks for no consent beyond the terms of sign-up; none is stored.
        "consents": [],
        "sessions": [
            {"expires_at": _iso(s.expire_date), "id_ends_with": s.session_key[-6:]}
            for s in reader_sessions(user.pk)
        ],
        "app_tokens": [
            {
                "name": t.name,
                "prefix": t.prefix,
                "created_at": _iso(t.created_at),
                "last_used_at": _iso(t.last_used_at),
                "revoked_at": _iso(t.revoked_at),
            }
            for t in AppToken.objects.filter(user=user).order_by("pk")
        ],
        "personal_tokens": [
            {
                "name": t.name,
                "prefix": t.prefix,
                "scopes": t.scopes,
                "created_at": _iso(t.created_at),
                "last_used_at": _iso(t.last_used_at),
                "last_network": t.last_network,
                "shared_at": _iso(t.shared_at),
                "revoked_at": _iso(t.revoked_at),
                "fetches_by_day": {u.day.isoformat(): u.fetches for u in t.uses.order_by("day")},
            }
            for t in PersonalToken.objects.filter(user=user).order_by("pk")
        ],
        "account_events": [
            {"kind": e.kind, "at": _iso(e.at), "detail": e.detail}
            for e in AccountEvent.objects.filter(user=user).order_by("pk")
        ],
    }


def export_json(user: Any) -> str:
    return json.dumps(export_reader(user), indent=2, ensure_ascii=False)


# ---- erasure --------------------------------------------------------------------------------


@dataclass
class Erased:
    record: AccountErasure
    rows_rewritten: int


def _replace(value: Any, pattern: re.Pattern[str], pseudonym: str, email: str) -> Any:
    if isinstance(value, str):
        value = pattern.sub(lambda m: email if "@" in m.group(0) else pseudonym, value)
        return value
    if isinstance(value, list):
        return [_replace(v, pattern, pseudonym, email) for v in value]
    if isinstance(value, dict):
        return {
            _replace(k, pattern, pseudonym, email): _replace(v, pattern, pseudonym, email)
            for k, v in value.items()
        }
    return value


def _pseudonymise(values: list[str], pseudonym: str, email: str) -> int:
    """Replace the reader's identifying texts in every text field of every table (published
    content aside). Append-only rows are rewritten here and only here, through a plain
    queryset (their own refuses updates), and only in their personal text."""
    if not values:
        return 0
    pattern = re.compile("|".join(re.escape(v) for v in values), re.IGNORECASE)
    rewritten = 0
    for model in apps.get_models():
        meta = model._meta
        if meta.proxy or not meta.managed or meta.app_label in CONTENT_APPS:
            continue
        fields = [f for f in meta.concrete_fields if isinstance(f, TEXT_FIELDS)]
        if not fields:
            continue
        rows: models.QuerySet[Any] = models.QuerySet(model=model)
        match = models.Q()
        for f in fields:
            for value in values:
                match |= models.Q(**{f"{f.attname}__icontains": value})
        names = [f.attname for f in fields]
        for pk, *current in rows.filter(match).values_list("pk", *names):
            changes = {}
            for name, old in zip(names, current, strict=True):
                new = _replace(old, pattern, pseudonym, email)
                if new != old:
                    changes[name] = new
            if changes:
                rows.filter(pk=pk).update(**changes)
                rewritten += 1
    return rewritten


# What the reader wrote in their own words when they cancelled ("Tell us more"): it may say
# anything about them, so it goes whole, not just their name; the reason code stays.
REMOVED_WORDS = "(removed: the reader's account was erased)"


def _remove_own_words(user: Any) -> int:
    # A plain queryset: like `_pseudonymise`, the one rewrite allowed past append-only.
    rows: models.QuerySet[Any] = models.QuerySet(model=SubscriptionEvent)
    return (
        rows.filter(subscription__user=user, kind=EventKind.CANCEL_REASON)
        .exclude(reason="")
        .update(reason=REMOVED_WORDS)
    )


def _forget_redis_meter(user_id: int) -> None:
    if not settings.REDIS_URL:
        return
    import redis

    client = redis.Redis.from_url(settings.REDIS_URL, socket_timeout=2)
    pattern = f"{settings.REDIS_KEY_PREFIX}:meter:{{{meter_key(user_id)}}}:*"
    for key in client.scan_iter(match=pattern, count=500):
        client.delete(key)


def _cancel_live_subscriptions(user: Any, *, now: datetime, actor: Any, reason: str) -> None:
    live = Subscription.objects.filter(user=user).exclude(status=Status.EXPIRED).order_by("pk")
    for sub in live:
        subscription_actions.cancel(
            sub, now=now, actor=actor, reason=f"Account erased: {reason}", immediately=True
        )


def erase_reader(
    user: Any, *, now: datetime, actor: Any = None, reason: str, requested_by_reader: bool
) -> Erased:
    """Anonymise the reader (see the module's docstring); refuses staff accounts."""
    if user.is_staff or user.is_superuser:
        raise PermissionError("Staff accounts are not erased this way; remove their staff role.")
    if not reason.strip():
        raise ValueError("Say why the account is erased (the reader's request, its date).")
    if AccountErasure.objects.filter(user=user).exists():
        raise ValueError("This account was erased already.")
    _cancel_live_subscriptions(user, now=now, actor=actor, reason=reason)
    pseudonym = f"erased-{secrets.token_hex(6)}"
    email = f"{pseudonym}@{ERASED_DOMAIN}"
    with transaction.atomic(durable=True):
        user = get_user_model()._default_manager.select_for_update().get(pk=user.pk)
        values = personal_values(user)
        addresses = [v for v in values if "@" in v]
        for sent in emails_to(addresses):
            OutboxEmail.objects.filter(pk=sent.pk).update(
                body="",
                html_body="",
                subject="(removed: the reader's account was erased)",
                to=[email],
                headers={},
            )
        for session in reader_sessions(user.pk):
            session.delete()
        AppToken.objects.filter(user=user).delete()
        PersonalToken.objects.filter(user=user).delete()  # its uses and addresses go with it
        PaymentMethod.objects.filter(user=user).delete()
        MeteredRead.objects.filter(reader_key=meter_key(user.pk)).delete()
        ReaderMeter.objects.filter(reader_key=meter_key(user.pk)).delete()
        SessionEpoch.objects.filter(user=user).update(epoch=models.F("epoch") + 1)
        user.email, user.username = email, pseudonym
        user.first_name = user.last_name = ""
        user.is_active = False
        user.set_unusable_password()
        user.save()
        # After the save: saving an address remembers it (accounts.signals).
        EmailAddress.objects.filter(user=user).delete()
        ReaderMailbox.objects.filter(user=user).delete()
        # Recorded before the rewrite, so a reason naming the reader is pseudonymised too.
        record = AccountErasure.objects.create(
            user=user,
            pseudonym=pseudonym,
            at=now,
            actor=actor if actor is not None and actor.pk != user.pk else None,
            requested_by_reader=requested_by_reader,
            reason=reason,
        )
        rewritten = _pseudonymise(values, pseudonym, email)
        rewritten += _remove_own_words(user)
        record.refresh_from_db()
        erased_id = user.pk
        transaction.on_commit(lambda: _forget_redis_meter(erased_id))
    return Erased(record, rewritten)
