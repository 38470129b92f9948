"""Every change to a meter goes through these actions."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from masthead.metering.identity import ReaderIdentity
from masthead.metering.policy import current_policy, new_window, policy_for
from masthead.metering.stores import MeterUnavailable, Outcome, RecordResult, get_store

log = logging.getLogger("masthead.metering")


def record_read(reader: ReaderIdentity, article: Any, *, now: datetime) -> RecordResult:
    """Count `article` against the reader's allowance, atomically; a re-read is free.

    What counts is not decided here: `masthead.access.decide` says so (`counts_read`), and
    `access.doors.open_article` is the one caller that records. REFUSED means the allowance
    was already spent (a concurrent request may have taken the last free article): the caller
    must show the preview. Raises MeterUnavailable when the counter store cannot be reached.
    """
    if reader.meter_key is None:
        return RecordResult(Outcome.NOT_METERED, 0)
    policy = policy_for(reader.split_key)
    if reader.fresh and not reader.registered:
        # No cookie came: maybe a client that never keeps one. Count the read in the cookie
        # this response sets, not in the store (bounded storage, see identity).
        if policy.allowance_for(registered=False) < 1:
            return RecordResult(Outcome.REFUSED, 0)
        reader.outbox["pending"] = (article.pk, now)
        return RecordResult(Outcome.COUNTED, 1)
    return get_store().record(
        reader.meter_key,
        article.pk,
        allowance=policy.allowance_for(registered=reader.registered),
        now=now,
        policy=policy,
    )


def settle_pending_read(reader: ReaderIdentity, *, now: datetime) -> None:
    """Move the read a returning reader's cookie carries into the store (idempotent: a union),
    as counted at the time it was read; the response then rewrites the cookie without it.
    While the store is down the read stays in the cookie."""
    if reader.pending is None or reader.anonymous_id is None:
        return
    article_id, read_at = reader.pending
    policy = policy_for(f"a:{reader.anonymous_id}")
    if read_at <= now and new_window(policy, read_at).closes_at > now:
        try:
            get_store().record(
                f"a:{reader.anonymous_id}",
                article_id,
                allowance=policy.allowance_for(registered=False),
                now=read_at,
                policy=policy,
            )
        except MeterUnavailable:
            return
    reader.outbox["settled"] = True


def carry_over_anonymous_reads(anonymous_id: str, user_id: int, *, now: datetime) -> int:
    """At sign-up or login, the account's count becomes the union of both counts.

    Articles read on both are counted once; nothing is reset, so signing in never buys a fresh
    allowance. Idempotent: signing in twice carries nothing the second time. Never blocks a
    login: if the store is down the reads stay with the cookie and the event is logged.
    """
    policy = current_policy()
    try:
        carried = get_store().carry_over(
            f"a:{anonymous_id}", f"u:{user_id}", now=now, policy=policy
        )
    except MeterUnavailable as exc:
        log.warning("meter carry-over skipped for user %s: store unreachable (%s)", user_id, exc)
        return 0
    if carried:
        log.info("carried %d anonymous reads into user %s", carried, user_id)
    return carried
