"""One free trial per reader, where a reader is a mailbox; a card-less trial needs a verified
address. The reader who is refused is told why and how to verify."""

from __future__ import annotations

import pytest
from allauth.account.models import EmailAddress
from django.test import Client

from masthead.core.mailboxes import canonical_mailbox
from masthead.core.models import ReaderMailbox
from masthead.subscriptions import actions
from masthead.subscriptions.models import Subscription
from masthead.subscriptions.trial_eligibility import MAILBOX_USED
from tests import factories
from tests.subscriptions.conftest import NOW, card

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("address", "mailbox"),
    [
        ("ana@example.com", "ana@example.com"),
        ("  Ana@Example.COM ", "ana@example.com"),
        ("ana+news@example.com", "ana@example.com"),
        ("ana+a+b@example.com", "ana@example.com"),
        ("a.na@example.com", "a.na@example.com"),  # dots matter for most providers
        ("A.N.A+x@gmail.com", "ana@gmail.com"),
        ("a.na@googlemail.com", "ana@gmail.com"),
        ("ana@gmail.com.", "ana@gmail.com"),
        ("+tag@example.com", "+tag@example.com"),
        ("ana@bücher.example", "ana@xn--bcher-kva.example"),
        ("not-an-address", "not-an-address"),
    ],
)
def test_canonical_mailbox(address, mailbox):
    assert canonical_mailbox(address) == mailbox


def _reader(email: str, *, verified: bool = True):
    return factories.user(email, verified=verified)


def test_a_card_less_trial_needs_a_verified_address(catalog):
    reader = _reader("new.reader@example.com", verified=False)
    refusal = actions.offer_refusal(reader.pk, catalog.trial, now=NOW)
    assert refusal is not None
    assert refusal.startswith("Free trials without a card are for readers with a verified")
    assert "/accounts/email/" in refusal
    with pytest.raises(actions.NotEligible):
        actions.start_trial(reader, catalog.trial, now=NOW)
    assert not Subscription.objects.filter(user=reader).exists()

    EmailAddress.objects.filter(user=reader).update(verified=True)
    assert actions.offer_refusal(reader.pk, catalog.trial, now=NOW) is None
    assert actions.start_trial(reader, catalog.trial, now=NOW).trial_end is not None


def test_a_trial_with_a_card_does_not_need_a_verified_address(catalog):
    reader = _reader("card.reader@example.com", verified=False)
    assert actions.offer_refusal(reader.pk, catalog.card_trial, now=NOW) is None
    sub = actions.start_trial(reader, catalog.card_trial, now=NOW, card=card(reader))
    assert sub.auto_renew is True


def test_five_plus_aliases_of_one_mailbox_get_one_trial(catalog):
    readers = [_reader(f"ana+{n}@example.com") for n in range(5)]
    actions.start_trial(readers[0], catalog.trial, now=NOW)
    for alias in readers[1:]:
        assert actions.offer_refusal(alias.pk, catalog.trial, now=NOW) == MAILBOX_USED
        with pytest.raises(actions.NotEligible, match="already been taken"):
            actions.start_trial(alias, catalog.trial, now=NOW)
    assert Subscription.objects.filter(trial_end__isnull=False).count() == 1
    # The plain address is the same mailbox too, and so is the card trial.
    plain = _reader("ana@example.com")
    assert actions.offer_refusal(plain.pk, catalog.trial, now=NOW) == MAILBOX_USED
    assert actions.offer_refusal(plain.pk, catalog.card_trial, now=NOW) == MAILBOX_USED
    # Intro offers are not trials: the alias may still pay for one.
    assert actions.offer_refusal(plain.pk, catalog.one_month, now=NOW) is None


def test_gmail_dots_and_googlemail_are_one_mailbox(catalog):
    actions.start_trial(_reader("ana.petrova@gmail.com"), catalog.trial, now=NOW)
    for address in ("anapetrova@gmail.com", "a.n.a.petrova+x@googlemail.com"):
        assert actions.offer_refusal(_reader(address).pk, catalog.trial, now=NOW) == MAILBOX_USED


def test_dots_elsewhere_are_different_readers(catalog):
    actions.start_trial(_reader("ana.petrova@example.com"), catalog.trial, now=NOW)
    assert (
        actions.offer_refusal(_reader("anapetrova@example.com").pk, catalog.trial, now=NOW) is None
    )


def test_changing_address_after_a_trial_does_not_free_the_old_mailbox(catalog):
    trialist = _reader("ana@example.com")
    actions.start_trial(trialist, catalog.trial, now=NOW)
    trialist.email = "ana@elsewhere.example"
    trialist.save()
    EmailAddress.objects.filter(user=trialist).delete()
    EmailAddress.objects.create(user=trialist, email=trialist.email, primary=True, verified=True)
    assert set(ReaderMailbox.objects.filter(user=trialist).values_list("mailbox", flat=True)) == {
        "ana@example.com",
        "ana@elsewhere.example",
    }
    assert actions.offer_refusal(_reader("ana+2@example.com").pk, catalog.trial, now=NOW) == (
        MAILBOX_USED
    )


def test_an_added_second_address_counts_as_the_readers_mailbox(catalog):
    actions.start_trial(_reader("ana@example.com"), catalog.trial, now=NOW)
    other = _reader("someone@example.org")
    assert actions.offer_refusal(other.pk, catalog.trial, now=NOW) is None
    EmailAddress.objects.create(user=other, email="ana+alt@example.com", verified=False)
    assert actions.offer_refusal(other.pk, catalog.trial, now=NOW) == MAILBOX_USED


def test_the_refused_reader_sees_why_and_how_to_verify_at_checkout(catalog):
    reader = _reader("unverified@example.com", verified=False)
    client = Client()
    client.force_login(reader)
    page = client.get(f"/checkout/offer/{catalog.trial.code}/").content.decode()
    assert "Free trials without a card are for readers with a verified e-mail address." in page
    assert "/accounts/email/" in page
    response = client.post(f"/checkout/offer/{catalog.trial.code}/", {"checkout_key": "k" * 32})
    assert not Subscription.objects.filter(user=reader).exists()
    assert response.status_code == 200
