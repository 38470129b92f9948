"""Helpers for the insights tests: the event buffer pointed at a Redis of the test's own (or
the database's table), and a scripted population of readers."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from masthead.core import events
from masthead.insights import drain


def drained() -> int:
    """Flush this process's batch and drain the buffer, as the job does."""
    return drain.drain(None)


def script(at: datetime, readers: dict[str, list[tuple[str, dict[str, Any]]]]) -> None:
    """Record each reader's events, a minute apart, in order."""
    step = 0
    for reader, moments in readers.items():
        for name, props in moments:
            step += 1
            events.record(
                name, reader, at=at + timedelta(minutes=step), after_commit=False, **props
            )


def population(article_a: int, article_b: int) -> dict[str, list[tuple[str, dict[str, Any]]]]:
    """20 visitors; 12 meet the meter; 5 hit the paywall; 3 register; 2 trial; 1 pays.

    The registered ones read as anonymous readers first ("a:conv<n>"), then sign up as
    "u:<n>" (the sign-up names the anonymous id, as metering's signal does)."""
    readers: dict[str, list[tuple[str, dict[str, Any]]]] = {}
    for n in range(8):  # visitors who never meet the meter (free articles only)
        readers[f"a:free{n}"] = [(events.ARTICLE_READ, {"article": article_a})]
    for n in range(7):  # met the meter, never walled
        readers[f"a:met{n}"] = [
            (events.METER_SHOWN, {"article": article_a, "left": 2}),
            (events.METER_SHOWN, {"article": article_b, "left": 1}),
        ]
    for n in range(2):  # walled and left
        readers[f"a:wall{n}"] = [
            (events.LAST_FREE, {"article": article_a}),
            (events.PAYWALL_SHOWN, {"article": article_b, "reason": "meter_exhausted"}),
        ]
    for n in range(3):  # walled, then registered; two start a trial; one of them pays
        readers[f"a:conv{n}"] = [
            (events.METER_SHOWN, {"article": article_b, "left": 1}),
            (
                events.PAYWALL_SHOWN,
                {"article": article_a if n else article_b, "reason": "registration_wall"},
            ),
        ]
        readers[f"u:{n}"] = [(events.SIGNED_UP, {"anon": f"conv{n}"})]
    readers["u:0"] += [
        (events.TRIAL_STARTED, {"offer": 7}),
        (events.FIRST_PAYMENT, {"offer": 7, "amount_minor": 1500}),
    ]
    readers["u:1"] += [(events.TRIAL_STARTED, {"offer": 7})]
    return readers
