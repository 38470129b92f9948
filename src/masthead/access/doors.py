"""What every door calls: the article page, print view, API, feeds, search, sitemaps, JSON-LD.

- `open_article(request, article)`: doors that show an article to read (page, print view, API
  detail). Decides and, when a metered article is shown in full, records the read atomically;
  a read lost to a concurrent request downgrades to the preview. Returns the final Decision.
  With a store whose `record` is one round trip (Redis), a metered article skips the meter
  look (`state`): the atomic record alone says counted, re-read or refused, and how many are
  left, so the decision costs that one round trip for every reader.
- `peek(request, article)`: doors that must not count a read (feeds, search, lists, sitemaps,
  structured data). Full only when reading would not count (free article, subscriber, staff,
  campaign, verified crawler); never asks the counter store. `peek_for(reader, article)`: the
  same for a reader named by a personal token rather than by the request (the private feed).
- `screen_of(request)` / `anyone()`: what this request passed of Wagtail's page privacy, or
  the screen of nobody in particular (for output every reader shares: feeds, sitemaps, the
  API's list, cached fragments). `screen.readable(pages)` is a list door's queryset filter.
- `readable_in_full(request)`: the access classes (level, sponsored) this reader peeks at in
  full, so search matches body text only where the reader may read it.
- `visible_blocks(article, decision)`: the body blocks this decision lets through; the cut is
  made here, on the server, and nothing after it is rendered.
- `refuse_automated(response)`: an automated client's answer on a gated article (the preview
  it was given): HTTP 402, `Link: </machine-access.json>; rel="terms-of-service"`, private,
  no-store, `Vary: User-Agent, Accept` (decision 0034). The article page, the print view and
  the API call it for `Reason.AUTOMATED`.
- `mark_reader_dependent(response)`: Cache-Control private, no-store + Vary: Cookie (after
  signing out, the browser's Back button must not show what the signed-in reader saw);
  `mark_shared(response, decision)`: public with the shared-cache lifetimes when the decision
  is the same for every reader (both owned by `masthead.core.cdn`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from django.http import HttpRequest, HttpResponse

from masthead.access import decision as rules
from masthead.access.decision import (
    METER_REASONS,
    Decision,
    Level,
    Reason,
    decide,
    meter_spent,
    meter_unavailable,
    metered_full,
)
from masthead.access.levels import AccessLevel
from masthead.access.privacy import Screen
from masthead.core import cdn, clock, events, metrics
from masthead.gifts import actions as gift_actions
from masthead.gifts.passes import GiftPass, pass_of
from masthead.groups import actions as group_actions
from masthead.groups.passes import Coverage, LazyCoverage, coverage_for
from masthead.groups.passes import coverage_of as _coverage_of
from masthead.groups.passes import covered_by_network as _covered_by_network
from masthead.metering.actions import record_read
from masthead.metering.identity import ANONYMOUS, ReaderIdentity, note_meter_met
from masthead.metering.policy import policy_for
from masthead.metering.stores import MeterUnavailable, Outcome

log = logging.getLogger("masthead.access")


_SCREEN = "_access_screen"


def reader_of(request: HttpRequest | None) -> ReaderIdentity:
    return getattr(request, "reader", None) or ANONYMOUS


def screen_of(request: HttpRequest | None) -> Screen:
    """This request's screen (made once per request); a fresh `anyone()` without one."""
    if request is None:
        return anyone()
    screen = getattr(request, _SCREEN, None)
    if screen is None:
        screen = Screen(request)
        setattr(request, _SCREEN, screen)
    return screen


def anyone(request: HttpRequest | None = None) -> Screen:
    """The screen of nobody in particular: passes no view restriction. Given the request being
    served, it shares that request's one read of the restrictions."""
    return screen_of(request).for_nobody() if request is not None else Screen(None)


def gift_of(request: HttpRequest | None) -> GiftPass | None:
    """The gift link this request carries (`?gift=<token>`), read once per request."""
    return pass_of(request)


def coverage_of(request: HttpRequest | None) -> Coverage | LazyCoverage:
    """The reader's seat and institutions (by verified domain, by the client address through
    trusted proxies only), worked out once per request (`groups.passes`)."""
    return _coverage_of(request)


def covered_by_network(request: HttpRequest | None) -> bool:
    """The request's address is in a live institution's network: its pages are this reader's
    (never a shared listing copy)."""
    return request is not None and _covered_by_network(request)


def _covered_read(request: HttpRequest, decision: Decision) -> None:
    """A read in full on a seat or through an institution: its usage row (a failing write
    degrades the report, never the page)."""
    from django.db import DatabaseError

    reader = reader_of(request)
    now: datetime = request.masthead_now  # type: ignore[attr-defined]
    try:
        if decision.reason is Reason.GROUP_SEAT and reader.user_id is not None:
            group_actions.record_seat_read(decision.covered_by or 0, reader.user_id, now=now)
        elif decision.reason is Reason.INSTITUTION:
            group_actions.record_institution_read(
                decision.covered_by or 0, decision.via, reader.meter_key, now=now
            )
    except DatabaseError as exc:
        log.warning("usage not recorded: %s", exc)


def open_article(request: HttpRequest, article: Any) -> Decision:
    """The decision for a reader opening `article` (its read recorded), counted by reason."""
    gift = gift_of(request)
    decision = _open_article(request, article, gift)
    if gift is not None:
        now: datetime = request.masthead_now  # type: ignore[attr-defined]
        if decision.reason is Reason.GIFT:
            _opened(request, gift, now)
        # A decision made again from the meter's record keeps the gift's notice.
        decision = rules.with_gift_notice(decision, gift, article, now)
    if decision.reason in (Reason.GROUP_SEAT, Reason.INSTITUTION):
        _covered_read(request, decision)
    metrics.count_decision(decision.reason)
    note_funnel(reader_of(request), article, decision)
    return decision


# Decisions the funnel does not count: nobody reading (hidden), staff, machines.
_NOT_IN_FUNNEL = frozenset(
    {Reason.UNPUBLISHED, Reason.PRIVATE, Reason.STAFF, Reason.VERIFIED_CRAWLER, Reason.AUTOMATED}
)


def note_funnel(reader: ReaderIdentity, article: Any, decision: Decision) -> None:
    """The funnel moment this decision is (docs/insights.md): one event, no SQL (with Redis
    one round trip; a store that is down drops it)."""
    if decision.reason in _NOT_IN_FUNNEL or decision.hidden:
        return
    pk = getattr(article, "pk", None)
    if decision.reason is Reason.LAST_FREE_ARTICLE:
        name, props = events.LAST_FREE, {"article": pk}
    elif decision.reason is Reason.METERED and decision.full:
        name, props = events.METER_SHOWN, {"article": pk, "left": decision.left}
    elif not decision.full:
        name, props = events.PAYWALL_SHOWN, {"article": pk, "reason": str(decision.reason)}
    else:
        name, props = events.ARTICLE_READ, {"article": pk}
    events.record(name, reader.meter_key, after_commit=False, **props)


def _opened(request: HttpRequest, gift: GiftPass, now: datetime) -> None:
    """Count the gift's open (once per reader). An anonymous reader gets the reader cookie,
    which is what a later sign-up is attributed by."""
    reader = reader_of(request)
    note_meter_met(request)
    gift_actions.record_open(
        gift.gift_id, reader_key=reader.meter_key, user_id=reader.user_id, now=now
    )


def _open_article(request: HttpRequest, article: Any, gift: GiftPass | None) -> Decision:
    reader = reader_of(request)
    now = clock.now()
    screen = screen_of(request)
    # The meter message's offer is judged at the same moment (and costs no second clock read).
    request.masthead_now = now  # type: ignore[attr-defined]
    coverage = coverage_of(request)
    if rules.get_store().record_is_one_round_trip and reader.meter_key is not None:
        decision = decide(
            reader,
            article,
            now=now,
            consult_meter=False,
            screen=screen,
            gift=gift,
            coverage=coverage,
        )
        if decision.reason is Reason.METERED:  # the meter applies: one atomic call decides
            note_meter_met(request)
            return _restricted(_recorded(reader, article, now), decision)
        return decision
    decision = decide(reader, article, now=now, screen=screen, gift=gift, coverage=coverage)
    if decision.reason in METER_REASONS:
        note_meter_met(request)
    if not decision.counts_read:
        return decision
    return _restricted(_recorded(reader, article, now), decision)


def _restricted(recorded: Decision, decided: Decision) -> Decision:
    if decided.restricted and not recorded.restricted:
        return replace(recorded, restricted=True)
    return recorded


def _recorded(reader: ReaderIdentity, article: Any, now: datetime) -> Decision:
    """Record the read, and decide from what the atomic record found."""
    policy = policy_for(reader.split_key)
    try:
        result = record_read(reader, article, now=now)
    except MeterUnavailable as exc:
        # Per request, so DEBUG: the store says once per outage that it is down (core.outage).
        log.debug("meter store unreachable while recording, failing %s: %s", policy.fail_mode, exc)
        return meter_unavailable(policy)
    if result.outcome is Outcome.REFUSED:
        return meter_spent(reader, policy)
    allowance = policy.allowance_for(registered=reader.registered)
    # The atomic result, not the earlier look, says how many are left.
    return metered_full(policy, allowance, result.used, counts=result.outcome is Outcome.COUNTED)


def peek(request: HttpRequest | None, article: Any, *, screen: Screen | None = None) -> Decision:
    return decide(
        reader_of(request),
        article,
        now=clock.now(),
        consult_meter=False,
        screen=screen or screen_of(request),
        gift=gift_of(request),
        coverage=coverage_of(request),
    )


def peek_for(reader: ReaderIdentity, article: Any, *, screen: Screen | None = None) -> Decision:
    """`peek` for a reader who is not the request's: the owner of a personal token, at fetch
    time (the private feed, decision 0031). Never counts a read, never asks the meter."""
    return decide(
        reader,
        article,
        now=clock.now(),
        consult_meter=False,
        screen=screen or anyone(),
        coverage=coverage_for(reader.user_id),  # the owner's seat and domains, not an address
    )


@dataclass(frozen=True)
class _Probe:
    """An article of one access class and nothing else (public, live, no tree path)."""

    access_level: str
    sponsored: bool
    pk: None = None


ACCESS_CLASSES = [(level, sponsored) for level in AccessLevel.values for sponsored in (False, True)]


def readable_in_full(request: HttpRequest | None) -> list[tuple[str, bool]]:
    """The (access level, sponsored) classes whose articles this reader peeks at in full.

    `peek` reads an article only through its access class (and, before that, its privacy,
    which list doors filter with `Screen.readable`), so asking one probe per class answers for
    every article of the class.
    """
    screen = anyone()
    return [
        (level, sponsored)
        for level, sponsored in ACCESS_CLASSES
        if peek(request, _Probe(level, sponsored), screen=screen).full
    ]


def visible_blocks(article: Any, decision: Decision) -> list[Any]:
    if decision.level is Level.HIDDEN:
        return []
    blocks = list(article.body)
    if decision.level is Level.FULL:
        return blocks
    if decision.level is Level.NONE or not decision.preview_blocks:
        return []
    return blocks[: decision.preview_blocks]


TERMS_PATH = "/machine-access.json"
# RFC 8288's registered relation for a resource's terms of service (decision 0034).
TERMS_LINK = f'<{TERMS_PATH}>; rel="terms-of-service"'


def refuse_automated(response: HttpResponse) -> HttpResponse:
    """An automated client's answer on a gated article: 402 Payment Required, a pointer to
    the machine-readable terms, and never kept by any cache (its body is the preview, and
    the same URL is the full text for a subscriber)."""
    from django.utils.cache import patch_vary_headers

    response.status_code = 402
    response["Link"] = TERMS_LINK
    # Expected, like a paywall: the request log has its line; no django.request warning each.
    response._has_been_logged = True  # type: ignore[attr-defined]
    mark_reader_dependent(response)
    patch_vary_headers(response, ["User-Agent", "Accept"])
    return response


def mark_reader_dependent(response: HttpResponse) -> HttpResponse:
    """The one place a response is marked as this reader's (`core.cdn.mark_private`)."""
    return cdn.mark_private(response)


def mark_shared(response: HttpResponse, decision: Decision | None = None) -> HttpResponse:
    """Public for shared caches unless `decision` depends on the reader (`core.cdn`)."""
    return cdn.mark_shared(response, decision)
