"""The one source of "now" for business rules.

In the demo the clock can be moved forward (`masthead clock advance 31d`) so a reviewer can
watch trials expire and renewals charge. The offset lives in the database; each process keeps
it stamped with the site generation, which moving the clock bumps, so every process agrees
within a second. Production refuses to move it (settings.DEMO_CLOCK_ENABLED is False).
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from masthead.core import generation

_KEPT = "core.clock_offset"
_DURATION = re.compile(r"^(?P<count>\d+)(?P<unit>[smhdw])$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


class ClockError(ValueError):
    pass


def offset() -> timedelta:
    if not settings.DEMO_CLOCK_ENABLED:
        return timedelta(0)
    return timedelta(seconds=generation.kept(_KEPT, _saved_offset))


def _saved_offset() -> int:
    from masthead.core.models import ClockOffset

    row = ClockOffset.objects.filter(pk=1).first()
    return row.seconds if row else 0


def _moved() -> None:
    generation.drop(_KEPT)
    generation.bump_now_and_on_commit()


def now() -> datetime:
    return timezone.now() + offset()


def parse_duration(text: str) -> timedelta:
    match = _DURATION.match(text.strip())
    if not match:
        raise ClockError(f"Cannot read {text!r}: use a number and a unit, e.g. 31d, 12h, 2w.")
    return timedelta(**{_UNITS[match["unit"]]: int(match["count"])})


def advance(by: timedelta) -> datetime:
    """Move the demo clock forward; refused outside the demo."""
    if not settings.DEMO_CLOCK_ENABLED:
        raise ClockError("The clock can only be moved in the demo (MASTHEAD_DEMO_CLOCK).")
    if by < timedelta(0):
        raise ClockError("The clock only moves forward.")
    from masthead.core.models import ClockOffset

    with transaction.atomic():
        row, _ = ClockOffset.objects.select_for_update().get_or_create(pk=1)
        row.seconds += int(by.total_seconds())
        row.save(update_fields=["seconds", "changed_at"])
        _moved()
    return now()


def reset() -> None:
    from masthead.core.models import ClockOffset

    ClockOffset.objects.filter(pk=1).update(seconds=0)
    _moved()
