"""Who may start a free trial: one trial per reader, where a reader is a mailbox.

- A trial without a card needs a verified e-mail address: the address is then the only thing
  that tells one reader from another, so it must be theirs.
- Every form of one mailbox is one reader (`masthead.core.mailboxes.canonical_mailbox`):
  `ana+1@example.com` and `ana@example.com`, and for Gmail `a.na@gmail.com` and
  `ana@googlemail.com`. A mailbox any of whose addresses has had a trial, on any account,
  has had its trial; every address an account ever had counts (`core.ReaderMailbox`).

Called from `offer_refusal`; the reader's own earlier trials are refused there already.
See docs/decisions/0016-invalid-input-and-mailboxes.md.
"""

from __future__ import annotations

from datetime import datetime

from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.db import transaction
from django.urls import reverse

from masthead.core.mailboxes import canonical_mailbox
from masthead.core.models import ReaderMailbox
from masthead.subscriptions.models import Offer, OfferKind, Subscription


def verify_first_message() -> str:
    return (
        "Free trials without a card are for readers with a verified e-mail address. "
        "Open the link we e-mailed you when you signed up, or send a new one from "
        f"{reverse('account_email')}, then come back to this page."
    )


MAILBOX_USED = (
    "A free trial has already been taken with this e-mail address or another form of it "
    "(such as name+tag@ or, for Gmail, the same name with dots). Trials are one per reader; "
    "our plans are below."
)


def _mailboxes_of(user_id: int) -> set[str]:
    """The reader's mailboxes now, from their addresses (not only the recorded ones)."""
    addresses = set(EmailAddress.objects.filter(user_id=user_id).values_list("email", flat=True))
    email = get_user_model().objects.filter(pk=user_id).values_list("email", flat=True).first()
    if email:
        addresses.add(email)
    recorded = ReaderMailbox.objects.filter(user_id=user_id).values_list("mailbox", flat=True)
    return {canonical_mailbox(address) for address in addresses} | set(recorded)


def refusal(user_id: int | None, offer: Offer, *, now: datetime) -> str | None:
    """Why this reader may not start this trial, in words; None when they may (or when the
    offer is not a trial)."""
    if user_id is None or offer.kind != OfferKind.TRIAL:
        return None
    if (
        not offer.card_required
        and not EmailAddress.objects.filter(user_id=user_id, verified=True).exists()
    ):
        return verify_first_message()
    mailboxes = _mailboxes_of(user_id)
    if not mailboxes:
        return None
    if transaction.get_connection().in_atomic_block:
        # Inside start_trial: two accounts of one mailbox starting trials at once queue here
        # (rows in pk order, so they cannot deadlock), and the second sees the first's trial.
        list(
            ReaderMailbox.objects.select_for_update()
            .filter(mailbox__in=mailboxes)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
    others = (
        ReaderMailbox.objects.filter(mailbox__in=mailboxes)
        .exclude(user_id=user_id)
        .values("user_id")
    )
    if Subscription.objects.filter(user_id__in=others, trial_end__isnull=False).exists():
        return MAILBOX_USED
    return None
