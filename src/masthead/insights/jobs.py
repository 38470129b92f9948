"""The insights jobs: drain the event buffer every minute, prune raw events daily."""

from __future__ import annotations

from datetime import timedelta

from masthead.core import jobs
from masthead.insights import drain


def register() -> None:
    jobs.register("insights.drain_events")(drain.drain)
    jobs.register("insights.prune_events", every=timedelta(days=1))(drain.prune)
