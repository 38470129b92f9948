"""The coverage is kept like the subscription (shared cache, stamped with the reader's
version; the network table per process, stamped with the site generation) and retired by
every change: a removed member, an address no longer verified, an institution whose domain
or range changed loses access on the next request, whichever process serves it."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext

from masthead.access import doors
from masthead.access.decision import Reason
from masthead.core import clock, generation
from masthead.groups import actions, passes
from masthead.groups.models import InstitutionDomain, InstitutionNetwork
from masthead.newsroom.models import AccessLevel
from tests import factories
from tests.groups import support

pytestmark = pytest.mark.django_db

INSIDE = "198.51.100.77"


@pytest.fixture(autouse=True)
def no_recent_reuse(monkeypatch):
    """`generation.recent()` reuses its value for half a second in a process; the next
    request of another process reads it fresh, which is what these tests stand for."""
    monkeypatch.setattr(generation, "RECENT_SECONDS", 0)


@pytest.fixture
def now():
    return clock.now()


@pytest.fixture
def article():
    return factories.article(access_level=AccessLevel.SUBSCRIBERS)


def reason(user, article, ip="203.0.113.9"):
    return doors.peek(support.request(user, ip=ip), article).reason


def coverage_queries(user):
    """Queries spent working out a reader's coverage (0 when the shared cache holds it)."""
    with CaptureQueriesContext(connection) as queries:
        passes.account_coverage(user.pk)
    return len(queries)


def test_a_removed_member_loses_the_seat_on_the_next_request(now, article):
    grp = support.group(now, seats=3)
    member = support.member(grp, now)
    assert reason(member, article) is Reason.GROUP_SEAT
    if settings.REDIS_URL:
        assert coverage_queries(member) == 0  # the warm request is served from the cache
    actions.remove_member(grp.memberships.get(user=member), actor=grp.manager, now=now)
    assert reason(member, article) is Reason.SUBSCRIBERS_ONLY


def test_a_new_member_gains_the_seat_on_the_next_request(now, article):
    grp = support.group(now, seats=3)
    reader = factories.user()
    assert reason(reader, article) is Reason.SUBSCRIBERS_ONLY  # "no seat" is cached too
    support.member(grp, now, reader)
    assert reason(reader, article) is Reason.GROUP_SEAT


def test_the_group_subscription_ending_retires_every_members_seat(now, article):
    from masthead.subscriptions import actions as subscriptions

    grp = support.group(now, seats=3)
    member = support.member(grp, now)
    assert reason(member, article) is Reason.GROUP_SEAT
    subscriptions.cancel(grp.subscription, now=now, reason="test", immediately=True)
    assert reason(member, article) is Reason.SUBSCRIBERS_ONLY


def test_an_address_removed_or_a_domain_dropped_ends_domain_access(now, article):
    inst = support.institution(now)
    ada = support.reader_at("ada@uni.example")
    assert reason(ada, article) is Reason.INSTITUTION
    InstitutionDomain.objects.filter(institution=inst).delete()
    assert reason(ada, article) is Reason.SUBSCRIBERS_ONLY
    InstitutionDomain.objects.create(institution=inst, domain="uni.example")
    assert reason(ada, article) is Reason.INSTITUTION
    ada.emailaddress_set.update(verified=False)  # a queryset update sends no signal...
    ada.emailaddress_set.first().save()  # ...so allauth's save (what it does) is the change
    assert reason(ada, article) is Reason.SUBSCRIBERS_ONLY


def test_a_range_that_changes_stops_matching_in_a_process_holding_the_old_table(now, article):
    inst = support.institution(now)
    assert reason(None, article, INSIDE) is Reason.INSTITUTION
    held = generation.held(passes.NETWORKS)  # this process holds the table under a generation
    network = InstitutionNetwork.objects.get(institution=inst, cidr="198.51.100.0/24")
    network.cidr = "192.0.2.0/24"
    network.save()
    assert generation.held(passes.NETWORKS) is held  # nothing told this process directly
    assert reason(None, article, INSIDE) is Reason.SUBSCRIBERS_ONLY
    assert reason(None, article, "192.0.2.8") is Reason.INSTITUTION


def test_an_outsiders_request_costs_no_query_for_the_network_table_once_held(now, article):
    support.institution(now)
    reason(None, article)
    with CaptureQueriesContext(connection) as queries:
        passes.network_coverage("203.0.113.9")
    # The generation (one primary-key read on the embedded default, none with Redis).
    assert len(queries) == (0 if settings.REDIS_URL else 1)
