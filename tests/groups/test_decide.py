"""GROUP_SEAT and INSTITUTION in the one decision: the permission matrix through the door
layer (which works out the coverage once per request), exact levels, reasons and messages."""

from __future__ import annotations

from datetime import timedelta

import pytest

from masthead.access import doors
from masthead.access.decision import Level, Reason, decide
from masthead.core import clock
from masthead.groups import actions
from masthead.groups.models import InstitutionReader, InstitutionReads, SeatReads
from masthead.groups.passes import Cover, Coverage, Seat
from masthead.metering.machines import MachineKind
from masthead.newsroom.models import AccessLevel
from masthead.subscriptions import actions as subscriptions
from tests import factories
from tests.gifts import support as gift_support
from tests.groups import support
from tests.metering.support import save_policy

pytestmark = pytest.mark.django_db

OUTSIDE = "203.0.113.9"
INSIDE_V4 = "198.51.100.77"
INSIDE_V6 = "2001:db8:17::42"


@pytest.fixture
def now():
    return clock.now()


@pytest.fixture
def world(now):
    readers = gift_support.readers(now)
    grp = support.group(now, seats=4)
    member = support.member(grp, now)
    removed = support.member(grp, now)
    actions.remove_member(grp.memberships.get(user=removed), actor=grp.manager, now=now)
    support.institution(now)
    readers |= {
        "group member": member,
        "group manager": grp.manager,
        "removed member": removed,
        "institution by domain": support.reader_at("ada@uni.example"),
        "unverified institutional": support.reader_at("bob@uni.example", verified=False),
        "outsider": support.reader_at("eve@elsewhere.example"),
    }
    return readers


def reason_of(reader, article, ip=OUTSIDE):
    decision = doors.peek(support.request(reader, ip=ip), article)
    return decision.level, decision.reason, decision.via


PREVIEW = (Level.PREVIEW, Reason.SUBSCRIBERS_ONLY, "")
SEAT = (Level.FULL, Reason.GROUP_SEAT, "")
BY_DOMAIN = (Level.FULL, Reason.INSTITUTION, "domain")
BY_NETWORK = (Level.FULL, Reason.INSTITUTION, "network")
SUBSCRIBER = (Level.FULL, Reason.SUBSCRIBER, "")


def test_the_permission_matrix_outside_any_institution_network(world):
    article = factories.article(access_level=AccessLevel.SUBSCRIBERS)
    got = {who: reason_of(reader, article) for who, reader in world.items()}
    assert got == {
        "anonymous": PREVIEW,
        "registered": PREVIEW,
        "trialist": SUBSCRIBER,
        "subscriber": SUBSCRIBER,
        "lapsed": (Level.PREVIEW, Reason.LAPSED_SUBSCRIPTION, ""),
        "past due": SUBSCRIBER,
        "staff": (Level.FULL, Reason.STAFF, ""),
        "group member": SEAT,
        "group manager": SUBSCRIBER,  # the manager's own subscription: they hold a seat too
        "removed member": PREVIEW,
        "institution by domain": BY_DOMAIN,
        "unverified institutional": PREVIEW,
        "outsider": PREVIEW,
    }


@pytest.mark.parametrize("ip", [INSIDE_V4, INSIDE_V6])
def test_the_permission_matrix_inside_an_institution_network(world, ip):
    article = factories.article(access_level=AccessLevel.SUBSCRIBERS)
    got = {who: reason_of(reader, article, ip) for who, reader in world.items()}
    assert got == {
        "anonymous": BY_NETWORK,
        "registered": BY_NETWORK,
        "trialist": SUBSCRIBER,
        "subscriber": SUBSCRIBER,
        "lapsed": BY_NETWORK,  # a lapsed reader on the premises reads as anyone there
        "past due": SUBSCRIBER,
        "staff": (Level.FULL, Reason.STAFF, ""),
        "group member": SEAT,  # the seat is more specific than the building
        "group manager": SUBSCRIBER,
        "removed member": BY_NETWORK,
        "institution by domain": BY_DOMAIN,  # by domain before by network
        "unverified institutional": BY_NETWORK,
        "outsider": BY_NETWORK,
    }


def test_the_messages_name_the_group_and_the_institution(world, now):
    article = factories.article(access_level=AccessLevel.SUBSCRIBERS)
    seat = doors.peek(support.request(world["group member"]), article)
    assert seat.message == "You are reading on your seat in Newsdesk"
    inst = doors.peek(support.request(None, ip=INSIDE_V4), article)
    assert inst.message == "Access provided by Uni of Example"


def test_covered_reads_never_spend_the_meter_and_are_counted_for_usage(world, now):
    save_policy(anonymous_allowance=0, registered_allowance=0)
    metered = factories.article(access_level=AccessLevel.METERED)
    member = world["group member"]
    decision = doors.open_article(support.request(member), metered)
    assert (decision.reason, decision.counts_read) == (Reason.GROUP_SEAT, False)
    doors.open_article(support.request(member), metered)
    assert SeatReads.objects.get(user=member).reads == 2
    anon = support.request(None, ip=INSIDE_V4)
    assert doors.open_article(anon, metered).reason is Reason.INSTITUTION
    reads = InstitutionReads.objects.get()
    assert (reads.via, reads.reads) == ("network", 1)
    assert InstitutionReader.objects.filter(via="network").count() == 1
    domain_reader = world["institution by domain"]
    doors.open_article(support.request(domain_reader), metered)
    assert InstitutionReads.objects.get(via="domain").reads == 1
    # Nobody covered had a read counted against a meter.
    from masthead.metering.models import MeteredRead

    assert not MeteredRead.objects.exists()


def test_a_group_whose_subscription_ended_gives_no_seat(now):
    grp = support.group(now, seats=3)
    member = support.member(grp, now)
    article = factories.article(access_level=AccessLevel.SUBSCRIBERS)
    assert reason_of(member, article) == SEAT
    subscriptions.cancel(grp.subscription, now=now, reason="test", immediately=True)
    assert reason_of(member, article) == PREVIEW


def test_an_institution_outside_its_active_period_covers_nobody(now):
    support.institution(now, starts=timedelta(days=-1), ends=None, slug="later")
    article = factories.article(access_level=AccessLevel.SUBSCRIBERS)
    ada = support.reader_at("ada@uni.example")
    assert reason_of(ada, article, INSIDE_V4) == PREVIEW


def test_a_forwarded_for_header_counts_only_through_a_trusted_proxy(now, settings):
    support.institution(now)
    article = factories.article(access_level=AccessLevel.SUBSCRIBERS)
    spoofed = support.request(None, ip=OUTSIDE)
    spoofed.META["HTTP_X_FORWARDED_FOR"] = INSIDE_V4
    assert doors.peek(spoofed, article).reason is Reason.SUBSCRIBERS_ONLY
    settings.TRUSTED_PROXIES = ["10.0.0.1"]
    proxied = support.request(None, ip="10.0.0.1")
    proxied.META["HTTP_X_FORWARDED_FOR"] = INSIDE_V4
    assert doors.peek(proxied, article).reason is Reason.INSTITUTION


def test_where_the_rules_sit_against_campaign_crawler_and_gift():
    """Pure decide with a coverage: seat before institution, both after subscriber/staff."""
    from masthead.metering.identity import ReaderIdentity

    article = factories.article(access_level=AccessLevel.SUBSCRIBERS)
    at = clock.now()
    seat = Seat(7, "Desk", False, at + timedelta(days=1))
    cover = Cover(3, "Uni", "uni", "network", at - timedelta(days=1), None)
    reader = ReaderIdentity(
        user_id=None, anonymous_id=None, fresh=True, machine=MachineKind.VERIFIED_SEARCH
    )
    both = Coverage(seat, (cover,))
    # An anonymous reader cannot hold a seat (a seat is an account's).
    assert decide(reader, article, now=at, coverage=both).reason is Reason.INSTITUTION
    expired_seat = Coverage(Seat(7, "Desk", False, at - timedelta(seconds=1)), ())
    assert decide(reader, article, now=at, coverage=expired_seat).reason is not Reason.GROUP_SEAT
