"""What every door calls: the article page, print view, API, feeds, search, sitemaps, JSON-LD.

- `open_article(request, article)`: doors that show an article to read (page, print view, API
  detail). Decides and, when a metered article is shown in full, records the read atomically;
  a read lost to a concurrent request downgrades to the preview. Returns the final Decision.
  With a store whose `record` is one round trip (Redis), a metered article skips the meter
  look (`state`): the atomic record alone says counted, re-read or refused, and how many are
  left, so the decision costs that one round trip for every reader.
- `peek(request, article)`: doors that must not count a read (feeds, search, lists, sitemaps,
  structured data). Full only when reading would not count (free article, subscriber, staff,
  campaign, verified crawler); never asks the counter store.
- `visible_blocks(article, decision)`: the body blocks this decision lets through; the cut is
  made here, on the server, and nothing after it is rendered.
- `mark_reader_dependent(response)`: Cache-Control private + Vary: Cookie.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils.cache import patch_cache_control, patch_vary_headers

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
from masthead.core import clock
from masthead.metering.actions import record_read
from masthead.metering.identity import ANONYMOUS, ReaderIdentity, note_meter_met
from masthead.metering.policy import current_policy
from masthead.metering.stores import MeterUnavailable, Outcome

log = logging.getLogger("masthead.access")


def reader_of(request: HttpRequest | None) -> ReaderIdentity:
    return getattr(request, "reader", None) or ANONYMOUS


def open_article(request: HttpRequest, article: Any) -> Decision:
    reader = reader_of(request)
    now = clock.now()
    # The meter message's offer is judged at the same moment (and costs no second clock read).
    request.masthead_now = now  # type: ignore[attr-defined]
    if rules.get_store().record_is_one_round_trip and reader.meter_key is not None:
        decision = decide(reader, article, now=now, consult_meter=False)
        if decision.reason is Reason.METERED:  # the meter applies: one atomic call decides
            note_meter_met(request)
            return _recorded(reader, article, now)
        return decision
    decision = decide(reader, article, now=now)
    if decision.reason in METER_REASONS:
        note_meter_met(request)
    if not decision.counts_read:
        return decision
    return _recorded(reader, article, now)


def _recorded(reader: ReaderIdentity, article: Any, now: datetime) -> Decision:
    """Record the read, and decide from what the atomic record found."""
    policy = current_policy()
    try:
        result = record_read(reader, article, now=now)
    except MeterUnavailable as exc:
        log.warning(
            "meter store unreachable while recording, failing %s: %s", policy.fail_mode, exc
        )
        return meter_unavailable(policy)
    if result.outcome is Outcome.REFUSED:
        return meter_spent(reader, policy)
    allowance = policy.allowance_for(registered=reader.registered)
    # The atomic result, not the earlier look, says how many are left.
    return metered_full(policy, allowance, result.used, counts=result.outcome is Outcome.COUNTED)


def peek(request: HttpRequest | None, article: Any) -> Decision:
    return decide(reader_of(request), article, now=clock.now(), consult_meter=False)


def visible_blocks(article: Any, decision: Decision) -> list[Any]:
    blocks = list(article.body)
    if decision.level is Level.FULL:
        return blocks
    if decision.level is Level.NONE or not decision.preview_blocks:
        return []
    return blocks[: decision.preview_blocks]


def mark_reader_dependent(response: HttpResponse) -> HttpResponse:
    patch_cache_control(response, private=True)
    patch_vary_headers(response, ["Cookie"])
    return response
