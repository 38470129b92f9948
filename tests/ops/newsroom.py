"""A small newsroom with money in it, built through the real actions: articles, an image and
its rendition, readers, a trial, a paid subscription, a cancellation and a refund."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.core.cache import cache
from django.core.files.images import ImageFile
from wagtail.images import get_image_model
from wagtail.models import Collection

from masthead.billing.models import LedgerEntry
from masthead.subscriptions import actions
from tests import factories
from tests.ops import s3
from tests.subscriptions.conftest import NOW, card, make_catalog


@dataclass
class Newsroom:
    readers: list[Any]
    subscriber: Any
    trialist: Any
    image: Any


def build() -> Newsroom:
    cache.clear()  # renditions are cached by image id, which a new test database reuses
    catalog = make_catalog()
    factories.article("Harbour strike ends")
    factories.article("Council votes on the budget", access_level="subscribers")
    if Collection.get_first_root_node() is None:  # a transactional test flushed it
        Collection.add_root(name="Root")
    image = get_image_model()(title="Harbour")
    image.file = ImageFile(_png(), name="harbour.png")
    image.save()
    image.get_rendition("fill-80x60")
    subscriber = factories.user("subscriber@example.com")
    trialist = factories.user("trialist@example.com")
    refunded = factories.user("refunded@example.com")
    actions.subscribe(subscriber, offer=catalog.one_month, card=card(subscriber), now=NOW)
    actions.start_trial(trialist, catalog.trial, now=NOW)
    sub = actions.subscribe(refunded, plan=catalog.annual, card=card(refunded), now=NOW)
    staff = factories.user("editor@example.com", staff=True)
    charge = LedgerEntry.objects.get(subscription=sub, kind="charge")
    actions.refund(charge, now=NOW + timedelta(days=1), actor=staff, reason="Asked in week one")
    actions.cancel(sub, now=NOW + timedelta(days=1), actor=staff, immediately=True)
    return Newsroom([subscriber, trialist, refunded], subscriber, trialist, image)


def _png() -> Any:
    import io

    return io.BytesIO(s3.png_bytes())
