"""The demo makes a gift recipient, a reader whose gift ended and a delivered unredeemed
gift whose redeem link it prints; a second run adds nothing."""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.test import Client

from masthead.core import clock
from masthead.giftsubs import demo
from masthead.giftsubs.models import GiftStatus, GiftSubscription
from masthead.subscriptions.entitlements import Lapse, entitlement_for
from tests.gifts.support import monthly

pytestmark = pytest.mark.django_db


def test_the_demo_prints_logins_and_a_working_redeem_link():
    monthly()
    lines = demo.load()
    text = "\n".join(lines)
    assert "gift-recipient@example.com / " in text and "gift-ended@example.com / " in text
    User = get_user_model()
    now = clock.now()
    recipient = User.objects.get(email="gift-recipient@example.com")
    assert entitlement_for(recipient.pk, now=now).status == "complimentary"
    ended = User.objects.get(email="gift-ended@example.com")
    assert entitlement_for(ended.pk, now=now).lapsed is Lapse.SUBSCRIPTION
    link = re.search(r"http://[^/]+(/gift/redeem/\S+/)$", lines[-1]).group(1)
    unredeemed = GiftSubscription.objects.get(recipient_email="gift-friend@example.com")
    assert unredeemed.status == GiftStatus.DELIVERED
    client = Client()
    client.force_login(
        User.objects.create_user("x@example.com", "x@example.com"),
        backend=settings.AUTHENTICATION_BACKENDS[0],
    )
    assert "Redeem my gift" in client.get(link).content.decode()
    count = GiftSubscription.objects.count()
    assert demo.load() == lines  # the same logins and the same link again
    assert GiftSubscription.objects.count() == count
