"""Refusals the actions raise; their messages are safe to show the reader or staff."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from masthead.subscriptions.actions.proration import PlanChangePreview


class SubscriptionError(Exception):
    """A refusal whose message is safe to show the reader or the staff member."""


class NotEligible(SubscriptionError):
    pass


class IllegalTransition(SubscriptionError):
    """A move that the transition table does not allow (a bug or a stale provider state)."""


class PreviewOutdated(SubscriptionError):
    """The charge shown to the reader is no longer the charge; show them the new preview."""

    def __init__(self, preview: PlanChangePreview) -> None:
        super().__init__("The amount changed since you looked; please confirm the new amount.")
        self.preview = preview
