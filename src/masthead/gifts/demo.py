"""Demo: one ready gift link for a metered article, given by the demo subscriber."""

from __future__ import annotations

import os

from django.contrib.auth import get_user_model
from wagtail.models import Page

from masthead.core import clock
from masthead.gifts import actions, allowance
from masthead.gifts.passes import GIFT_PARAMETER

GIVERS = ("subscriber@example.com", "publisher@meridian.example")


def load() -> list[str]:
    now = clock.now()
    User = get_user_model()
    givers = [u for email in GIVERS if (u := User.objects.filter(email=email).first())]
    giver = next(
        (
            u
            for u in givers
            if allowance.may_give(u, now=now) and allowance.gifts_left(u, now=now) != 0
        ),
        None,
    )
    article = next(
        (p for p in Page.objects.live().specific() if getattr(p, "access_level", "") == "metered"),
        None,
    )
    if giver is None or article is None:
        return []
    made = actions.create_gift(giver, article, now=now)
    host, port = os.environ.get("HOST", "127.0.0.1"), os.environ.get("PORT", "8000")
    url = f"http://{host}:{port}{article.url}?{GIFT_PARAMETER}={made.token}"
    return [f"Gift link ({giver.email} gave “{article.title}”, open it signed out): {url}"]
