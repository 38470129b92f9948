"""The demo makes a group manager with a member and a removed member, and an institution
member by domain, and prints their logins (idempotent)."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from masthead.groups import demo
from masthead.groups.models import Group, Institution, Membership
from masthead.newsroom.models import AccessLevel
from masthead.subscriptions import demo as subscription_demo
from tests import factories

pytestmark = pytest.mark.django_db

LAST = "zqdemoseatword"


def test_the_demo_prints_logins_that_read_in_full_and_loads_once():
    subscription_demo.load()
    first = demo.load()
    assert demo.load() == first
    text = "\n".join(first)
    for email in (demo.MANAGER, demo.MEMBER, demo.STUDENT):
        assert f"{email} / {subscription_demo.DEMO_PASSWORD}" in text
    group = Group.objects.get()
    assert (group.manager.email, group.subscription.seats) == (demo.MANAGER, 5)
    live = Membership.objects.filter(removed_at__isnull=True).values_list("user__email", flat=True)
    assert sorted(live) == [demo.MANAGER, demo.MEMBER]
    assert Institution.objects.get().slug == "northfield"
    body = [*factories.paragraphs(3), ("paragraph", f"<p>{LAST}</p>")]
    article = factories.article("Seat", access_level=AccessLevel.SUBSCRIBERS, body=body)
    User = get_user_model()
    for email in (demo.MEMBER, demo.STUDENT):
        client = Client()
        assert client.login(username=email, password=subscription_demo.DEMO_PASSWORD)
        assert LAST in client.get(article.url).content.decode(), email
    former = Client()
    former.force_login(User.objects.get(email=demo.FORMER))
    assert LAST not in former.get(article.url).content.decode()
