"""Who is reading: an account, or an anonymous reader known by a signed first-party cookie.

A reader without the cookie may be a client that never keeps cookies (a bot, a privacy
browser): nothing is written to the meter store for them. Their first metered read is counted
in the cookie itself (`<id>.<article>.<read at>`, signed) and moved into the store when the
cookie comes back (`metering.actions.settle_pending_read`), so cookie-less load leaves nothing
behind in Redis or the database.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from masthead.metering.machines import MachineKind

COOKIE_SALT = "masthead.metering.reader"
COOKIE_MAX_AGE = timedelta(days=400)  # the longest lifetime browsers honour
_COOKIE_VALUE = re.compile(r"^(?P<id>[0-9a-f]{32})(?:\.(?P<article>\d{1,18})\.(?P<at>\d{1,12}))?$")
_MET_METER = "_masthead_reader_met_meter"


@dataclass(frozen=True)
class ReaderIdentity:
    user_id: int | None
    anonymous_id: str | None
    is_staff: bool = False
    # What kind of client sent the request (`metering.machines.classify`), worked out once
    # per request by `metering.middleware.identify`; a signed-in reader is always HUMAN.
    machine: MachineKind = MachineKind.HUMAN
    # No valid reader cookie came with this request: a reader the meter has never seen.
    fresh: bool = False
    # A first read counted in the cookie, not yet in the store: (article id, read at).
    pending: tuple[int, datetime] | None = None
    # What this request's response must write into the cookie ("pending", "settled").
    outbox: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def registered(self) -> bool:
        return self.user_id is not None

    @property
    def verified_crawler(self) -> bool:
        """A search crawler verified by reverse and forward DNS (`metering.crawlers`)."""
        return self.machine is MachineKind.VERIFIED_SEARCH

    @property
    def meter_key(self) -> str | None:
        """The key reads are counted under: the account when signed in, else the cookie."""
        if self.user_id is not None:
            return f"u:{self.user_id}"
        if self.anonymous_id:
            return f"a:{self.anonymous_id}"
        return None

    @property
    def split_key(self) -> str | None:
        """Whom a split test assigns (decision 0033): the meter key, except for a signed-out
        reader whose request brought no cookie, who is shown the control until the cookie
        the meter issues comes back."""
        return None if self.fresh and self.user_id is None else self.meter_key


ANONYMOUS = ReaderIdentity(user_id=None, anonymous_id=None, fresh=True)


def reads_as_staff(user: Any) -> bool:
    """Staff read everything: Django staff, or anyone who may use the Wagtail admin."""
    return bool(user.is_staff or user.has_perm("wagtailadmin.access_admin"))


def cookie_from(request: HttpRequest) -> tuple[str | None, tuple[int, datetime] | None]:
    """The id in a valid reader cookie and the read it carries; (None, None) when missing or
    tampered with."""
    value = request.get_signed_cookie(settings.READER_COOKIE_NAME, default=None, salt=COOKIE_SALT)
    match = _COOKIE_VALUE.match(value) if value else None
    if not match:
        return None, None
    if match["article"] is None:
        return match["id"], None
    read_at = datetime.fromtimestamp(int(match["at"]), tz=UTC)
    return match["id"], (int(match["article"]), read_at)


def anonymous_id_from(request: HttpRequest) -> str | None:
    """The id in a valid reader cookie; None when missing or tampered with."""
    return cookie_from(request)[0]


def new_anonymous_id() -> str:
    return uuid.uuid4().hex


def note_meter_met(request: HttpRequest) -> None:
    """The reader met the meter on this request, so an anonymous reader needs the cookie."""
    setattr(request, _MET_METER, True)


def cookie_value(anonymous_id: str, pending: tuple[int, datetime] | None = None) -> str:
    if pending is None:
        return anonymous_id
    article_id, read_at = pending
    return f"{anonymous_id}.{article_id}.{int(read_at.timestamp())}"


def issue_cookie_if_needed(request: HttpRequest, response: HttpResponse) -> None:
    """Set the reader cookie for a new anonymous reader who met the meter (with the read it
    counted, if any), and rewrite it once that read is in the store.

    Pages that never consult the meter stay free of Set-Cookie, so caches may keep them.
    """
    reader = getattr(request, "reader", None)
    if not (reader and reader.anonymous_id):
        return
    if reader.outbox.get("settled"):
        value = cookie_value(reader.anonymous_id)
    elif reader.fresh and not reader.registered and getattr(request, _MET_METER, False):
        value = cookie_value(reader.anonymous_id, reader.outbox.get("pending"))
    else:
        return
    response.set_signed_cookie(
        settings.READER_COOKIE_NAME,
        value,
        salt=COOKIE_SALT,
        max_age=int(COOKIE_MAX_AGE.total_seconds()),
        httponly=True,
        samesite="Lax",
        secure=settings.SECURE_COOKIES,
    )
