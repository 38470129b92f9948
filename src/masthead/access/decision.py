"""The one access decision.

PLACEHOLDER until the access/metering issue lands: everyone reads everything in full. The
shapes below are the contract every door codes against.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime
from typing import Any


class Level(enum.StrEnum):
    FULL = "full"
    PREVIEW = "preview"
    NONE = "none"


class Reason(enum.StrEnum):
    FREE_ARTICLE = "free_article"
    SUBSCRIBER = "subscriber"
    STAFF = "staff"
    METERED = "metered"


@dataclass(frozen=True)
class Decision:
    level: Level
    reason: Reason
    # The one message this reader sees, already rendered (never a raw template).
    message: str = ""
    # How many body blocks a PREVIEW shows; None means the whole body.
    preview_blocks: int | None = None

    @property
    def full(self) -> bool:
        return self.level is Level.FULL


def decide(reader: Any, article: Any, *, now: datetime) -> Decision:
    """Pure: may `reader` read `article` at `now`, and what do they see. No writes."""
    return Decision(Level.FULL, Reason.FREE_ARTICLE)
