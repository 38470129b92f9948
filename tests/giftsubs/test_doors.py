"""A gift recipient reads through their subscription (no new reason in `decide`): in full on
the page, the print view and the API while the gift lasts, and as lapsed after it ends."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings
from django.test import Client

from masthead.core import clock
from masthead.giftsubs import actions
from masthead.newsroom.models import AccessLevel
from masthead.subscriptions.models import Subscription
from tests import factories
from tests.giftsubs import support
from tests.metering.support import save_policy

pytestmark = pytest.mark.django_db

LAST = "zqlastgiftsubword"


@pytest.fixture
def article():
    body = [*factories.paragraphs(3), ("paragraph", f"<p>The end {LAST}.</p>")]
    return factories.article("Harbour", access_level=AccessLevel.SUBSCRIBERS, body=body)


@pytest.fixture
def recipient():
    now = clock.now()
    _, code = support.delivered(now, months=1)
    reader = factories.user()
    actions.redeem(code, reader, now=now)
    yield reader
    clock.reset()


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user, backend=settings.AUTHENTICATION_BACKENDS[0])
    return client


def test_a_gift_recipient_reads_in_full_on_every_door_then_is_lapsed(article, recipient):
    save_policy(anonymous_allowance=0, registered_allowance=0)
    client = signed_in(recipient)
    assert LAST in client.get(article.url).content.decode()
    assert LAST in client.get(f"{article.url}print/").content.decode()
    api = client.get(f"/api/v1/articles/{article.pk}").json()
    assert (api["access"]["level"], api["access"]["reason"]) == ("full", "subscriber")

    end = Subscription.objects.get(user=recipient).current_period_end
    clock.advance(end - clock.now() + timedelta(minutes=1))
    page = client.get(article.url).content.decode()
    assert LAST not in page
    assert "has expired" in page
    assert LAST not in client.get(f"{article.url}print/").content.decode()
    api = client.get(f"/api/v1/articles/{article.pk}").json()
    assert api["access"]["level"] != "full"
