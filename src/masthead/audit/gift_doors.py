"""Gift links the audit gives and then reads: a valid gift on its article (which must show the
full text), the same gift on another article, an expired gift and a revoked one (which must
show no more than the reader's own decision). The gifts are given by the audit's own staff
account, so they go when that account is removed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from masthead.access.decision import is_free_for_everyone
from masthead.access.levels import AccessLevel
from masthead.audit.corpus import Article
from masthead.core import clock
from masthead.gifts import actions
from masthead.gifts.passes import GIFT_PARAMETER, GiftPass, pass_for
from masthead.metering.policy import current_policy


@dataclass(frozen=True)
class GiftDoor:
    kind: str  # "gift (valid)", "gift api (revoked)" and so on: how the audit reports it
    article: Article  # the article the door opens for reading
    gift: GiftPass
    api: bool  # the API detail (which only peeks without a token)


def gated(articles: list[Article]) -> list[Article]:
    live = [a for a in articles if a.live and a.path and not a.restrictions]
    # Subscribers-only first: gated for every reader without a subscription, meter or not.
    found = [a for a in live if not is_free_for_everyone(a.page)]
    return sorted(found, key=lambda a: a.page.access_level != AccessLevel.SUBSCRIBERS)


def give(giver: Any, articles: list[Article]) -> list[tuple[str, GiftDoor]]:
    """Make the gifts and return every (path, door) to read; none when fewer than two gated
    articles exist (the audit then reports it as blind)."""
    candidates = gated(articles)
    if len(candidates) < 2:
        return []
    given, other = candidates[0], candidates[1]
    now = clock.now()
    valid = actions.create_gift(giver, given.page, now=now)
    expired = actions.create_gift(
        giver, given.page, now=now - timedelta(days=current_policy().gift_days, seconds=1)
    )
    revoked = actions.create_gift(giver, given.page, now=now)
    actions.revoke_gift(revoked.gift, actor=giver, now=now)
    doors: list[tuple[str, GiftDoor]] = []
    for label, made, article in (
        ("valid", valid, given),
        ("another article", valid, other),
        ("expired", expired, given),
        ("revoked", revoked, given),
    ):
        gift = pass_for(made.token)
        assert gift is not None
        query = f"?{GIFT_PARAMETER}={made.token}"
        for suffix, api in (("", False), ("print/", False)):
            path = article.path.rstrip("/") + "/" + suffix + query
            doors.append((path, GiftDoor(f"gift ({label})", article, gift, api)))
        api_path = f"/api/v1/articles/{article.page.pk}{query}"
        doors.append((api_path, GiftDoor(f"gift api ({label})", article, gift, True)))
    return doors
