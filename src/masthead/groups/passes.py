"""What `access.decide` reads of groups and institutions: a `Coverage`, worked out once per
request by the door layer (`coverage_of`).

- A reader's seat and the institutions their VERIFIED e-mail domains belong to are kept in the
  shared cache stamped with the reader's version (`core.reader_state`, like the subscription,
  decision 0025): a membership change, an address added, verified or removed, a change of the
  group's subscription bump the reader; a change to any institution bumps everyone.
- The institutions' networks are one small table each process keeps, stamped with the site
  generation (decision 0011), which every institution change bumps: a range that changes stops
  matching in every process on its next request.

What the facts mean at a moment (`Coverage.seat_at`, `institution_at`) is worked out on every
request, so the end of a subscription's period or an institution's term needs no invalidation.
"""

from __future__ import annotations

import ipaddress
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import DatabaseError

from masthead.core import clientip, clock, generation, reader_state

log = logging.getLogger("masthead.groups")
_ON_REQUEST = "_masthead_coverage"
PART = "coverage"


@dataclass(frozen=True)
class Seat:
    group_id: int
    group_name: str
    manager: bool
    access_until: datetime | None  # the group subscription's (None: it has ended)

    def valid_at(self, now: datetime) -> bool:
        return self.access_until is not None and now < self.access_until


@dataclass(frozen=True)
class Cover:
    """An institution covering this reader, and how ("domain" or "network")."""

    institution_id: int
    name: str
    slug: str
    via: str
    starts_at: datetime
    ends_at: datetime | None

    def valid_at(self, now: datetime) -> bool:
        return self.starts_at <= now and (self.ends_at is None or now < self.ends_at)


@dataclass(frozen=True)
class Coverage:
    seat: Seat | None = None
    institutions: tuple[Cover, ...] = ()

    def seat_at(self, now: datetime) -> Seat | None:
        return self.seat if self.seat is not None and self.seat.valid_at(now) else None

    def institution_at(self, now: datetime) -> Cover | None:
        """The first institution covering the reader now: by domain before by network."""
        for via in ("domain", "network"):
            for cover in self.institutions:
                if cover.via == via and cover.valid_at(now):
                    return cover
        return None

    @property
    def by_network(self) -> bool:
        return any(cover.via == "network" for cover in self.institutions)


NOBODY = Coverage()


class LazyCoverage:
    """A `Coverage` worked out on first use, once: `decide` asks only when the rules before
    (staff, subscriber) did not settle it, so a subscriber's request costs nothing more."""

    def __init__(self, user_id: int | None, address: str | None) -> None:
        self._args = (user_id, address)
        self._found: Coverage | None = None

    @property
    def found(self) -> Coverage:
        if self._found is None:
            self._found = coverage_for(*self._args)
        return self._found

    def seat_at(self, now: datetime) -> Seat | None:
        return self.found.seat_at(now)

    def institution_at(self, now: datetime) -> Cover | None:
        return self.found.institution_at(now)

    @property
    def seat(self) -> Seat | None:
        return self.found.seat

    @property
    def institutions(self) -> tuple[Cover, ...]:
        return self.found.institutions


def _cover(institution: Any, via: str) -> Cover:
    return Cover(
        institution.pk,
        institution.name,
        institution.slug,
        via,
        institution.starts_at,
        institution.ends_at,
    )


def _account_facts(user_id: int) -> tuple[Seat | None, tuple[Cover, ...]]:
    from allauth.account.models import EmailAddress

    from masthead.groups.models import Institution, Membership

    membership = (
        Membership.objects.filter(user_id=user_id, removed_at__isnull=True)
        .select_related("group__subscription__plan")
        .first()
    )
    seat = None
    if membership is not None:
        group = membership.group
        seat = Seat(
            group.pk,
            group.name,
            group.manager_id == user_id,
            group.subscription.access_until(),
        )
    domains = {
        address.rsplit("@", 1)[-1].lower()
        for address in EmailAddress.objects.filter(user_id=user_id, verified=True).values_list(
            "email", flat=True
        )
        if "@" in address
    }
    covers: tuple[Cover, ...] = ()
    if domains:
        found = Institution.objects.filter(domains__domain__in=domains).distinct()
        covers = tuple(_cover(institution, "domain") for institution in found)
    return seat, covers


def account_coverage(user_id: int | None) -> tuple[Seat | None, tuple[Cover, ...]]:
    """The reader's seat and domain institutions: from the shared cache (stamped with the
    reader's version) or two queries."""
    if user_id is None:
        return None, ()
    use_cache = reader_state.enabled() and settings.CACHE_SUBSCRIPTIONS
    stamp, facts = reader_state.read(user_id, PART) if use_cache else (None, reader_state.MISSING)
    if facts is reader_state.MISSING:
        facts = _account_facts(user_id)
        reader_state.keep(user_id, PART, stamp, facts)
    seat, covers = facts  # type: ignore[misc]
    return seat, covers


# Per process: [(network, cover)] under the generation it was read under.
NETWORKS = "groups.networks"  # what `generation.kept` holds the table under


def _load_networks() -> tuple[tuple[Any, Cover], ...]:
    from masthead.groups.models import InstitutionNetwork

    rows = InstitutionNetwork.objects.select_related("institution")
    loaded = []
    for row in rows:
        try:
            network = ipaddress.ip_network(row.cidr, strict=False)
        except ValueError:  # never saved through the admin's validation: skip it, say so
            log.warning("institution network %s is not a network: %r", row.pk, row.cidr)
            continue
        loaded.append((network, _cover(row.institution, "network")))
    return tuple(loaded)


def network_table() -> tuple[tuple[Any, Cover], ...]:
    """Every institution network, kept per process under the site generation."""
    return generation.kept(NETWORKS, _load_networks)


def network_coverage(address: str | None) -> tuple[Cover, ...]:
    """The institutions whose networks hold `address` (the client address believed only
    through trusted proxies: `core.clientip`)."""
    if not address:
        return ()
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return ()
    table = network_table()
    if not table:
        return ()
    seen: dict[int, Cover] = {}
    for network, cover in table:
        if ip.version == network.version and ip in network:
            seen.setdefault(cover.institution_id, cover)
    return tuple(seen.values())


def coverage_for(user_id: int | None, address: str | None = None) -> Coverage:
    """The reader's coverage; `address` None for a reader who is not at the request (a
    personal token's owner)."""
    try:
        seat, covers = account_coverage(user_id)
        by_network = network_coverage(address)
    except DatabaseError as exc:  # a failing part degrades the page, never a 500
        log.warning("coverage unavailable: %s", exc)
        return NOBODY
    if seat is None and not covers and not by_network:
        return NOBODY
    return Coverage(seat, covers + by_network)


def coverage_of(request: Any) -> Coverage | LazyCoverage:
    """This request's coverage, worked out once, when first asked."""
    if request is None:
        return NOBODY
    found = getattr(request, _ON_REQUEST, None)
    if found is None:
        reader = getattr(request, "reader", None)
        user_id = getattr(reader, "user_id", None)
        address = clientip.client_ip(request) if hasattr(request, "META") else None
        found = LazyCoverage(user_id, address)
        setattr(request, _ON_REQUEST, found)
    return found


def covered_by_network(request: Any) -> bool:
    """Whether this request's address is in an institution's network now: its pages are
    this reader's, never served from or kept in a cache shared with other signed-out readers."""
    if not hasattr(request, "META"):
        return False
    try:
        covers = network_coverage(clientip.client_ip(request))
    except DatabaseError:
        return False
    now = clock.now()
    return any(cover.valid_at(now) for cover in covers)


def forget() -> None:
    """Drop this process's network table (tests)."""
    generation.drop(NETWORKS)
