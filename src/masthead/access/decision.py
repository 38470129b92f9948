"""The one access decision: may this reader read this article, and what do they see.

`decide` is pure: it reads the policy, the reader's entitlement, the running campaign and
(for metered articles) the reader's meter, and writes nothing. Recording a read is the
separate action `masthead.metering.actions.record_read`, which `doors.open_article` calls.

Order of the rules (first match wins): unpublished or private page (hidden), free or
sponsored article, staff, subscriber, a seat in a live group, an institution (by verified
e-mail domain, then by network), campaign, verified crawler, an automated client the machine
policy does not grant, a valid gift link for this article, paused subscriber, lapsed reader,
subscribers-only article, the meter.

An automated client (`ReaderIdentity.machine`, `metering.machines`): an unidentified one
(no User-Agent, a library, a spoofed crawler claim), or a declared agent whose category the
policy does not allow (search, ai-input, ai-train), gets the preview of a gated article and
never meets the meter (`Reason.AUTOMATED`): it never spends, never gets the cookie, even
with free articles left. A granted agent is read like any signed-out reader. Decision 0034.

A paused subscriber (decision 0035) is gated like a lapsed reader, with the message that says
until when and the way to resume, and gets no fresh meter on top: a pause is a break from the
subscription, not a free reader's allowance. A seat, an institution or a gift still opens
what it opens.

A seat or an institution (`masthead.groups.passes.Coverage`, what the door layer worked out
once for this request) is paid access like a subscription: it comes before the campaign (a
while-it-lasts opening) and the crawler, and before the lapsed rule (a lapsed reader who
holds a seat reads on it). Decision 0036 argues the order.

A gift (`masthead.gifts.passes.GiftPass`, what the request's `?gift=<token>` names) opens
its one article in full for anyone, lapsed readers included, and never counts a read. It comes
after the rules that already give the reader the article (they need no gift), and before
every rule that would gate it. A gift that expired or was revoked opens nothing: the reader
gets the decision they would get without it, with `gift_notice` saying why. A gift for
another article is ignored, as is a token that is not a gift.

This module also owns what "free for everyone" and "the preview length" mean
(`is_free_for_everyone`, `preview_length`): no other code re-decides either.
"""

from __future__ import annotations

import enum
import logging
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Protocol

from masthead.access import messages
from masthead.access.campaigns import active_campaign
from masthead.access.levels import AccessLevel
from masthead.access.privacy import Screen
from masthead.gifts.passes import GiftPass, Standing
from masthead.groups.passes import Coverage, LazyCoverage
from masthead.metering import machines
from masthead.metering.identity import ANONYMOUS, ReaderIdentity
from masthead.metering.models import FailMode, MeterPolicy
from masthead.metering.policy import current_policy, policy_for
from masthead.metering.stores import MeterState, MeterUnavailable, get_store
from masthead.subscriptions.entitlements import NO_ENTITLEMENT, Lapse, entitlement_for

log = logging.getLogger("masthead.access")


class Level(enum.StrEnum):
    FULL = "full"
    PREVIEW = "preview"  # the policy's lead-in blocks, then the paywall
    NONE = "none"  # headline and standfirst only (a policy with a zero-block preview)
    HIDDEN = "hidden"  # unpublished, or private to this reader: absent from every door (404)


class Reason(enum.StrEnum):
    UNPUBLISHED = "unpublished"
    PRIVATE = "private"  # a Wagtail view restriction (password, login, groups) not passed
    FREE_ARTICLE = "free_article"
    SUBSCRIBER = "subscriber"
    STAFF = "staff"
    CAMPAIGN = "campaign"
    VERIFIED_CRAWLER = "verified_crawler"
    METERED = "metered"  # full with N left; or, from `peek`, gated because reading would count
    LAST_FREE_ARTICLE = "last_free_article"
    METER_EXHAUSTED = "meter_exhausted"
    REGISTRATION_WALL = "registration_wall"
    SUBSCRIBERS_ONLY = "subscribers_only"
    LAPSED_TRIAL = "lapsed_trial"
    LAPSED_SUBSCRIPTION = "lapsed_subscription"
    METER_UNAVAILABLE = "meter_unavailable"
    GIFT = "gift"  # a valid gift link for this article: full, never counted
    GROUP_SEAT = "group_seat"  # a seat in a group whose subscription is live
    INSTITUTION = "institution"  # an institution's verified e-mail domain or network
    # An automated client the machine policy does not grant: the preview, an HTTP 402 with a
    # pointer to the terms (/machine-access.json), never a read counted.
    AUTOMATED = "automated"
    PAUSED = "paused"  # a paused subscription: gated, with the way to resume


# Reasons that mean the reader met the meter (an anonymous reader then gets the cookie).
METER_REASONS = frozenset(
    {Reason.METERED, Reason.LAST_FREE_ARTICLE, Reason.METER_EXHAUSTED, Reason.REGISTRATION_WALL}
)


@dataclass(frozen=True)
class Decision:
    level: Level
    reason: Reason
    # The one message this reader sees, already rendered (never a raw template).
    message: str = ""
    # How many body blocks a PREVIEW shows; None means the whole body.
    preview_blocks: int | None = None
    # Free metered articles left after this one (metered reasons only).
    left: int | None = None
    # Showing this in full must be recorded with `record_read` (doors.open_article does).
    counts_read: bool = False
    # The article is behind a Wagtail view restriction this reader passed.
    restricted: bool = False
    # Why the gift link this request carried opened nothing (expired, revoked); else "".
    gift_notice: str = ""
    # GROUP_SEAT: the group's id; INSTITUTION: the institution's id and how ("domain",
    # "network"). What the door records usage under.
    covered_by: int | None = None
    via: str = ""

    @property
    def full(self) -> bool:
        return self.level is Level.FULL

    @property
    def hidden(self) -> bool:
        return self.level is Level.HIDDEN

    @property
    def free_for_everyone(self) -> bool:
        """Every reader reads it in full, for good (not a campaign's while-it-lasts opening,
        not a restricted page): what feeds and `isAccessibleForFree` may say."""
        return self.reason is Reason.FREE_ARTICLE and not self.restricted

    @property
    def reader_dependent(self) -> bool:
        """False when every reader gets the same answer, so the response may be cached."""
        return not self.free_for_everyone


class Article(Protocol):
    """What `decide` reads of an article. `live` and `path` (a Wagtail tree path) are read
    when present; see `privacy` for stand-ins that have neither."""

    @property
    def pk(self) -> Any: ...

    @property
    def access_level(self) -> str: ...

    @property
    def sponsored(self) -> bool: ...


def is_free_for_everyone(article: Article) -> bool:
    """Rule 1: free and sponsored articles are read in full by everyone, and never count."""
    return article.access_level == AccessLevel.FREE or bool(article.sponsored)


def preview_length(policy: MeterPolicy | None = None) -> int:
    """How many body blocks a gated reader sees (the policy's setting; 0 means none)."""
    return (policy or current_policy()).preview_blocks


def gated(policy: MeterPolicy, reason: Reason, message: str = "") -> Decision:
    """What a reader who may not read the whole article gets: the lead-in, or nothing."""
    blocks = preview_length(policy)
    return Decision(Level.PREVIEW if blocks else Level.NONE, reason, message, blocks)


def metered_full(policy: MeterPolicy, allowance: int, used_after: int, *, counts: bool) -> Decision:
    """A metered article shown in full, `used_after` counted once it is recorded."""
    left = max(0, allowance - used_after)
    if counts and left == 0:
        return Decision(
            Level.FULL, Reason.LAST_FREE_ARTICLE, messages.last_free_article(policy), None, 0, True
        )
    return Decision(
        Level.FULL, Reason.METERED, messages.articles_left(policy, left), None, left, counts
    )


def meter_spent(reader: ReaderIdentity, policy: MeterPolicy) -> Decision:
    if not reader.registered and policy.registration_wall:
        more = policy.registered_allowance - policy.anonymous_allowance
        return gated(policy, Reason.REGISTRATION_WALL, messages.registration_wall(policy, more))
    allowance = policy.allowance_for(registered=reader.registered)
    return gated(policy, Reason.METER_EXHAUSTED, messages.meter_spent(policy, allowance))


def meter_unavailable(policy: MeterPolicy) -> Decision:
    """The counter store is down: the policy chooses between readers and the meter."""
    if policy.fail_mode == FailMode.OPEN:
        return Decision(Level.FULL, Reason.METER_UNAVAILABLE)
    return gated(policy, Reason.METER_UNAVAILABLE, messages.meter_unavailable())


def decide(
    reader: ReaderIdentity | None,
    article: Article,
    *,
    now: datetime,
    consult_meter: bool = True,
    screen: Screen | None = None,
    gift: GiftPass | None = None,
    coverage: Coverage | LazyCoverage | None = None,
) -> Decision:
    """Pure: may `reader` read `article` at `now`, and what do they see. No writes.

    With `consult_meter=False` (doors that must not count, see `doors.peek`) a metered article
    that would count is gated without asking the counter store. `screen` is what the request
    passed of Wagtail's page privacy (`doors.screen_of`); without one, no restriction is passed.
    `gift` is the gift link the request carries (`doors.gift_of`), whatever its standing.
    `coverage` is the reader's seat and institutions (`doors.coverage_of`).
    """
    settled, restricted = _everyones_rules(article, screen)
    if settled is None:
        settled = _decide(
            reader or ANONYMOUS,
            article,
            now=now,
            consult_meter=consult_meter,
            gift=gift,
            coverage=coverage,
        )
    settled = with_gift_notice(settled, gift, article, now)
    return replace(settled, restricted=True) if restricted else settled


def with_gift_notice(
    decision: Decision, gift: GiftPass | None, article: Article, now: datetime
) -> Decision:
    """`decision` with the notice a reader gets when their gift link for this article no
    longer works (not on a page hidden from them, nor on one free for everyone, which
    shared caches keep)."""
    if gift is None or decision.hidden or decision.free_for_everyone:
        return decision
    standing = gift.standing(article.pk, now)
    notice = {Standing.EXPIRED: messages.gift_expired, Standing.REVOKED: messages.gift_revoked}
    if standing not in notice:
        return decision
    return replace(decision, gift_notice=notice[standing]())


def _everyones_rules(article: Article, screen: Screen | None) -> tuple[Decision | None, bool]:
    """Rules 0 (hidden) and 1 (free for everyone), which no reader attribute changes; None
    when the reader's rules decide. Also whether the article is behind a passed restriction."""
    hidden, restricted = (screen or Screen(None)).withheld(article)
    if hidden:
        return Decision(Level.HIDDEN, Reason(hidden)), False
    if is_free_for_everyone(article):
        return Decision(Level.FULL, Reason.FREE_ARTICLE), restricted
    return None, restricted


def free_for_everyone(article: Article, *, screen: Screen | None = None) -> bool:
    """What `decide(...).free_for_everyone` answers for every reader, without reading the
    policy, entitlements or campaigns (they only choose among answers that are not)."""
    settled, restricted = _everyones_rules(article, screen)
    return settled is not None and not restricted and settled.free_for_everyone


def _decide(
    reader: ReaderIdentity,
    article: Article,
    *,
    now: datetime,
    consult_meter: bool,
    gift: GiftPass | None = None,
    coverage: Coverage | LazyCoverage | None = None,
) -> Decision:
    """Rules 2 onwards: the reader's."""
    if reader.is_staff:
        return Decision(Level.FULL, Reason.STAFF)
    entitlement = entitlement_for(reader.user_id, now=now) if reader.registered else NO_ENTITLEMENT
    if entitlement.reads_everything:
        return Decision(Level.FULL, Reason.SUBSCRIBER)
    if coverage is not None:
        seat = coverage.seat_at(now) if reader.registered else None
        if seat is not None:
            message = messages.group_seat(seat.group_name)
            return Decision(Level.FULL, Reason.GROUP_SEAT, message, covered_by=seat.group_id)
        cover = coverage.institution_at(now)
        if cover is not None:
            message = messages.institution(cover.name)
            return Decision(
                Level.FULL,
                Reason.INSTITUTION,
                message,
                covered_by=cover.institution_id,
                via=cover.via,
            )
    campaign = active_campaign(now)
    if campaign and campaign.opens(article):
        return Decision(Level.FULL, Reason.CAMPAIGN)
    policy = policy_for(reader.split_key)
    if reader.verified_crawler and policy.crawlers_read_in_full and policy.allow_search:
        return Decision(Level.FULL, Reason.VERIFIED_CRAWLER)
    if reader.machine.is_machine and not machines.granted(reader.machine, policy):
        return gated(policy, Reason.AUTOMATED, messages.automated())
    if gift is not None and gift.standing(article.pk, now) is Standing.VALID:
        return Decision(Level.FULL, Reason.GIFT, messages.gift_from(gift.giver_name))
    # A paused subscriber sees until when, and the way back; no fresh meter on top.
    if entitlement.paused_until is not None or entitlement.status == "paused":
        return gated(policy, Reason.PAUSED, messages.paused(entitlement.paused_until))
    # A lapsed reader sees what lapsed, and gets no fresh meter on top.
    if entitlement.lapsed is Lapse.TRIAL:
        return gated(policy, Reason.LAPSED_TRIAL, messages.trial_lapsed())
    if entitlement.lapsed is Lapse.SUBSCRIPTION:
        return gated(policy, Reason.LAPSED_SUBSCRIPTION, messages.subscription_lapsed())
    if article.access_level != AccessLevel.METERED:
        return gated(policy, Reason.SUBSCRIBERS_ONLY, messages.subscribers_only(policy))
    if not consult_meter:
        return gated(policy, Reason.METERED, messages.read_on_the_site())
    allowance = policy.allowance_for(registered=reader.registered)
    if reader.fresh or reader.meter_key is None:
        state = MeterState(used=0, counted=False)  # a reader the meter has never seen
    else:
        try:
            state = get_store().state(reader.meter_key, article.pk, now=now, policy=policy)
        except MeterUnavailable as exc:
            # Per request, so DEBUG: the store logs the outage once (masthead.core.outage).
            log.debug("meter store unreachable, failing %s: %s", policy.fail_mode, exc)
            return meter_unavailable(policy)
    if state.counted:
        return metered_full(policy, allowance, state.used, counts=False)
    if state.used < allowance:
        return metered_full(policy, allowance, state.used + 1, counts=True)
    return meter_spent(reader, policy)
