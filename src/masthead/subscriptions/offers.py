"""Live offers a reader may take. PLACEHOLDER until the subscriptions issue lands."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class OfferView:
    code: str
    headline: str  # "Try 1 month for $0.99"
    ends_text: str  # "Offer ends October 31st" or ""
    url: str  # checkout URL for this offer


def live_offers_for(user_id: int | None, *, now: datetime) -> list[OfferView]:
    return []
