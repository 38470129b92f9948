"""Who is reading: an account, or an anonymous reader known by a signed first-party cookie."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.http import HttpRequest, HttpResponse

COOKIE_SALT = "masthead.metering.reader"
COOKIE_MAX_AGE = timedelta(days=400)  # the longest lifetime browsers honour
_ANONYMOUS_ID = re.compile(r"^[0-9a-f]{32}$")
_MET_METER = "_masthead_reader_met_meter"


@dataclass(frozen=True)
class ReaderIdentity:
    user_id: int | None
    anonymous_id: str | None
    is_staff: bool = False
    verified_crawler: bool = False
    # No valid reader cookie came with this request: a reader the meter has never seen.
    fresh: bool = False

    @property
    def registered(self) -> bool:
        return self.user_id is not None

    @property
    def meter_key(self) -> str | None:
        """The key reads are counted under: the account when signed in, else the cookie."""
        if self.user_id is not None:
            return f"u:{self.user_id}"
        if self.anonymous_id:
            return f"a:{self.anonymous_id}"
        return None


ANONYMOUS = ReaderIdentity(user_id=None, anonymous_id=None, fresh=True)


def anonymous_id_from(request: HttpRequest) -> str | None:
    """The id in a valid reader cookie; None when missing or tampered with."""
    value = request.get_signed_cookie(settings.READER_COOKIE_NAME, default=None, salt=COOKIE_SALT)
    return value if value and _ANONYMOUS_ID.match(value) else None


def new_anonymous_id() -> str:
    return uuid.uuid4().hex


def note_meter_met(request: HttpRequest) -> None:
    """The reader met the meter on this request, so an anonymous reader needs the cookie."""
    setattr(request, _MET_METER, True)


def issue_cookie_if_needed(request: HttpRequest, response: HttpResponse) -> None:
    """Set the reader cookie only for a new anonymous reader who met the meter.

    Pages that never consult the meter stay free of Set-Cookie, so caches may keep them.
    """
    reader = getattr(request, "reader", None)
    if not (reader and reader.fresh and reader.anonymous_id and not reader.registered):
        return
    if not getattr(request, _MET_METER, False):
        return
    response.set_signed_cookie(
        settings.READER_COOKIE_NAME,
        reader.anonymous_id,
        salt=COOKIE_SALT,
        max_age=int(COOKIE_MAX_AGE.total_seconds()),
        httponly=True,
        samesite="Lax",
        secure=settings.SECURE_COOKIES,
    )
