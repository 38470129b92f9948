"""The demo prints a ready gift link for a metered article."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from masthead.core import clock
from masthead.gifts import demo
from masthead.gifts.models import GiftLink
from masthead.newsroom.models import AccessLevel
from tests import factories
from tests.gifts import support
from tests.metering.support import save_policy

pytestmark = pytest.mark.django_db


def test_the_demo_prints_a_gift_link_that_opens_its_article():
    save_policy(anonymous_allowance=0)
    body = [*factories.paragraphs(3), ("paragraph", "<p>zqdemogiftword closes it.</p>")]
    article = factories.article("Demo gift", access_level=AccessLevel.METERED, body=body)
    support.subscriber(clock.now(), email="subscriber@example.com")
    (line,) = demo.load()
    assert line.startswith("Gift link (subscriber@example.com gave “Demo gift”")
    path = re.search(r"http://[^/]+(/\S+)$", line).group(1)
    assert path.startswith(f"{article.url}?gift=")
    assert "zqdemogiftword" in Client().get(path).content.decode()
    assert GiftLink.objects.count() == 1


def test_the_demo_prints_nothing_without_a_giver():
    factories.article(access_level=AccessLevel.METERED)
    assert demo.load() == []
