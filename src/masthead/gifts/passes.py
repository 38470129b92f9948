"""What `access.decide` reads of a gift: a `GiftPass`, looked up once per request by its token.

The pass carries the facts (article, expiry, revocation); `GiftPass.standing` says what they
mean at a moment, and `decide` (rule GIFT) alone turns that into access.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from masthead.gifts import tokens

GIFT_PARAMETER = "gift"
_ON_REQUEST = "_masthead_gift_pass"


class Standing(enum.StrEnum):
    VALID = "valid"
    EXPIRED = "expired"
    REVOKED = "revoked"
    OTHER_ARTICLE = "other_article"  # a real gift, for another article: opens nothing here


@dataclass(frozen=True)
class GiftPass:
    gift_id: int
    article_id: int
    giver_name: str  # the giver's first name, or "" (then "A subscriber")
    expires_at: datetime
    revoked: bool

    def standing(self, article_pk: Any, now: datetime) -> Standing:
        if article_pk is None or int(article_pk) != self.article_id:
            return Standing.OTHER_ARTICLE
        if self.revoked:
            return Standing.REVOKED
        if now >= self.expires_at:
            return Standing.EXPIRED
        return Standing.VALID


def pass_for(token: str | None) -> GiftPass | None:
    """The gift behind `token`, whatever its standing; None for anything that is not one of
    ours (unsigned tokens cost no query)."""
    if not token or not tokens.well_formed(token):
        return None
    from masthead.gifts.models import GiftLink

    row = (
        GiftLink.objects.filter(token_hash=tokens.digest(token))
        .values("pk", "article_id", "giver__first_name", "expires_at", "revoked_at")
        .first()
    )
    if row is None:
        return None
    return GiftPass(
        gift_id=row["pk"],
        article_id=row["article_id"],
        giver_name=(row["giver__first_name"] or "").strip(),
        expires_at=row["expires_at"],
        revoked=row["revoked_at"] is not None,
    )


def pass_of(request: Any) -> GiftPass | None:
    """The gift this request carries (`?gift=<token>`), read once per request."""
    if request is None:
        return None
    if not hasattr(request, _ON_REQUEST):
        token = request.GET.get(GIFT_PARAMETER) if hasattr(request, "GET") else None
        setattr(request, _ON_REQUEST, pass_for(token))
    found: GiftPass | None = getattr(request, _ON_REQUEST)
    return found


def carries_gift(query_string: str) -> bool:
    """Whether a raw query string names a gift (the narrow WSGI path then steps aside)."""
    return f"{GIFT_PARAMETER}=" in query_string
