"""The one access decision. Placeholder until the access issue: everyone reads in full."""

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
    message: str = ""

    @property
    def full(self) -> bool:
        return self.level is Level.FULL


def decide(reader: Any, article: Any, *, now: datetime) -> Decision:
    return Decision(Level.FULL, Reason.FREE_ARTICLE)
