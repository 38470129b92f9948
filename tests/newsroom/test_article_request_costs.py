"""What one warm article request costs (SQL queries, Redis round trips), for a signed-out
reader on the narrow path (free, metered) and for a subscriber on the full stack; and that the
subscriber's cached state never outlives a change (docs/decisions/0025).

On the embedded default (SQLite, no Redis) nothing is cached across processes, so the counts
are the database's; with PostgreSQL+Redis they are the shared cache's.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
import redis.connection
from django.conf import settings
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from masthead.access import campaigns
from masthead.access.levels import AccessLevel
from masthead.accounts import actions as account_actions
from masthead.core import clock, outage
from masthead.core import generation as site_generation
from masthead.metering import policy as policy_module
from masthead.newsroom import routes
from masthead.subscriptions import actions
from masthead.subscriptions.offers import forget_catalogue
from tests import factories
from tests.newsroom.test_narrow_path import apps, call, served_narrow, warm  # noqa: F401
from tests.subscriptions.conftest import card, make_catalog

REDIS = bool(settings.REDIS_URL)
LAST = "paragraph 6 of the body."
pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def clean_state(monkeypatch, settings) -> Iterator[None]:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # The counts must not depend on timing: the process's last read of the site generation
    # is reused for the whole test (as tests/newsroom/test_queries.py does).
    monkeypatch.setattr(site_generation, "RECENT_SECONDS", 3600.0)
    forget_process_state()
    yield
    forget_process_state()


def forget_process_state() -> None:
    """What another worker would not have: every per-process memory of this one."""
    policy_module.forget_policy()
    campaigns.forget_campaigns()
    site_generation.forget()
    forget_catalogue()
    outage.reset()
    routes._known.clear()
    routes._shells.clear()


class RoundTrips:
    def __init__(self, monkeypatch) -> None:
        self.count = 0
        real = redis.connection.AbstractConnection.send_packed_command

        def counting(conn, command, check_health=True):
            self.count += 1
            return real(conn, command, check_health)

        monkeypatch.setattr(redis.connection.AbstractConnection, "send_packed_command", counting)


queries_log: list[dict[str, str]] = []


def costs(monkeypatch, request_once):
    trips = RoundTrips(monkeypatch)
    with CaptureQueriesContext(connection) as queries:
        answer = request_once()
    queries_log[:] = queries.captured_queries
    return len(queries), trips.count, answer


# Signed out, narrow path, warm, a fresh reader: the generation alone (1 round trip: the
# shell is at hand), for a metered article too, since a fresh reader's first read is counted
# in the cookie, not the store (metering/identity.py). Without Redis: the site generation's
# primary-key read.
@pytest.mark.parametrize(
    ("level", "expected"),
    [
        (AccessLevel.FREE, (0, 1) if REDIS else (1, 0)),
        (AccessLevel.METERED, (0, 1) if REDIS else (1, 0)),
    ],
)
def test_a_signed_out_readers_warm_article_request(apps, monkeypatch, level, expected):  # noqa: F811
    full, narrow = apps
    page = factories.article("Costed", access_level=level)
    warm(full, page.url)
    served_narrow(apps, page.url)  # the shell is rendered once, here
    site_generation.forget()
    queries, trips, (status, _, body) = costs(monkeypatch, lambda: call(narrow, page.url))
    assert status == "200 OK" and LAST in body.decode()
    assert (queries, trips) == expected


@pytest.fixture
def subscriber(db):
    catalog = make_catalog()
    reader = factories.user()
    now = clock.now()
    sub = actions.subscribe(
        reader, plan=catalog.monthly, card=card(reader, now=now), now=now, checkout_key="k" * 20
    )
    return reader, sub


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user, backend=settings.AUTHENTICATION_BACKENDS[0])
    return client


def reads_in_full(client: Client, page) -> bool:
    response = client.get(page.url)
    assert response.status_code == 200
    return LAST in response.content.decode()


# A subscriber's warm request: with Redis, the session (1), the user (1 MGET of the versions
# and the user), the sign-in epoch (1), the generation (1) and the subscription (1 MGET):
# 5 round trips and no SQL. Without Redis nothing is cached across processes: the session,
# the user, the staff check's permissions (user's and groups': 2), the sign-in epoch, the
# generation and the subscription, 7 queries. The "Gift this article" box adds what it shows:
# whether the reader may give and the gift links left this month (1 query). Whether the reader
# may give reads the subscription again, and so does the standing notice (the past-due banner,
# docs/dunning.md): both get the one this request already read (`reader_state.remembered`),
# which took the gift box's second read away (was 1 MGET, or 1 query: (1, 6) and (9, 0)).
SUBSCRIBER_COSTS = (1, 5) if REDIS else (8, 0)


def test_a_subscribers_warm_article_request(subscriber, monkeypatch):
    reader, _ = subscriber
    page = factories.article("For subscribers", access_level=AccessLevel.SUBSCRIBERS)
    client = signed_in(reader)
    for _ in range(3):
        assert reads_in_full(client, page)
    site_generation.forget()
    queries, trips, full = costs(monkeypatch, lambda: reads_in_full(client, page))
    assert full
    assert (queries, trips) == SUBSCRIBER_COSTS, [q["sql"][:90] for q in queries_log]


def test_a_past_due_readers_warm_article_request_costs_what_a_subscribers_does(db, monkeypatch):
    """The banner comes from the entitlement the decision read: no query, no round trip."""
    from masthead.billing.providers import TEST_CARD_FAILS_ON_RENEWAL

    catalog = make_catalog()
    reader = factories.user()
    now = clock.now()
    sub = actions.subscribe(
        reader,
        plan=catalog.monthly,
        card=card(reader, TEST_CARD_FAILS_ON_RENEWAL, now=now),
        now=now,
        checkout_key="p" * 20,
    )
    actions.record_payment_failure(sub, now=now, reason="card declined")
    page = factories.article("Past due", access_level=AccessLevel.SUBSCRIBERS)
    client = signed_in(reader)
    for _ in range(3):
        assert reads_in_full(client, page)
    site_generation.forget()
    queries, trips, full = costs(monkeypatch, lambda: client.get(page.url).content.decode())
    assert 'class="standing-notice' in full and LAST in full
    # A subscriber's costs, less the gift box's query: a past-due reader gives no gifts.
    assert (queries, trips) == ((0, 5) if REDIS else (7, 0)), [q["sql"][:90] for q in queries_log]


def _expire(sub):
    actions.expire(sub, now=clock.now(), reason="test")


def _cancel_now(sub):
    actions.cancel(sub, now=clock.now(), reason="test", immediately=True)


def _refund(sub):
    from masthead.billing.models import LedgerEntry

    charge = LedgerEntry.objects.filter(subscription=sub).order_by("pk").first()
    actions.refund(charge, now=clock.now(), actor=None, reason="asked for it")


@pytest.mark.parametrize("change", [_expire, _cancel_now], ids=lambda f: f.__name__)
def test_a_lapsed_subscriber_loses_the_full_text_on_the_next_request_anywhere(subscriber, change):
    reader, sub = subscriber
    page = factories.article("Locked", access_level=AccessLevel.SUBSCRIBERS)
    here, there = signed_in(reader), signed_in(reader)
    assert reads_in_full(here, page) and reads_in_full(there, page)
    assert reads_in_full(there, page)  # warm in "the other worker" too
    change(sub)
    forget_process_state()  # the next request is served by another process
    assert not reads_in_full(there, page)
    assert not reads_in_full(here, page)


def _past_due(sub):
    actions.record_payment_failure(sub, now=clock.now(), reason="card declined")


def _refund_and_end(sub):
    _refund(sub)
    _cancel_now(sub)


@pytest.mark.parametrize(
    ("change", "status"),
    [(_past_due, "past_due"), (_refund, "active"), (_refund_and_end, "expired")],
    ids=["past-due", "refunded", "refunded-and-ended"],
)
def test_the_next_request_shows_what_the_database_says(subscriber, change, status):
    """Whatever a change leaves (a past-due reader keeps access through the grace period, a
    refund alone returns money), the next request is decided on it, not on what was cached."""
    from masthead.subscriptions.models import Subscription

    reader, sub = subscriber
    page = factories.article("Grace", access_level=AccessLevel.SUBSCRIBERS)
    client = signed_in(reader)
    assert reads_in_full(client, page) and reads_in_full(client, page)
    change(sub)
    forget_process_state()
    latest = Subscription.objects.filter(user=reader).order_by("-created_at", "-pk").first()
    assert latest.status == status
    assert reads_in_full(client, page) is latest.has_access(clock.now())


def test_staff_keep_access_and_lose_it_when_demoted(db):
    staff = factories.user(staff=True)
    page = factories.article("Staff only read", access_level=AccessLevel.SUBSCRIBERS)
    client = signed_in(staff)
    assert reads_in_full(client, page) and reads_in_full(client, page)
    staff.is_staff = staff.is_superuser = False
    staff.save()
    forget_process_state()
    assert not reads_in_full(client, page)


def _new_password(reader):
    reader.set_password("a-brand-new-secret-99")
    reader.save()


def _sign_out_everywhere(reader):
    account_actions.log_out_everywhere(reader, now=clock.now() + timedelta(seconds=1))


@pytest.mark.parametrize("change", [_new_password, _sign_out_everywhere], ids=lambda f: f.__name__)
def test_other_sessions_are_signed_out_at_once(subscriber, change):
    reader, _ = subscriber
    page = factories.article("Signed out", access_level=AccessLevel.SUBSCRIBERS)
    other = signed_in(reader)
    assert reads_in_full(other, page) and reads_in_full(other, page)
    change(reader)
    forget_process_state()
    assert not reads_in_full(other, page)


def test_a_session_of_djangos_own_backend_stays_signed_in(subscriber):
    """Sessions signed in before decision 0025 name Django's backend: moved, not ended."""
    reader, _ = subscriber
    page = factories.article("Legacy", access_level=AccessLevel.SUBSCRIBERS)
    client = Client()
    client.force_login(reader, backend="django.contrib.auth.backends.ModelBackend")
    assert reads_in_full(client, page)
    assert client.session["_auth_user_backend"] == "masthead.accounts.backends.ModelBackend"


def _subscribe(reader):
    catalog = make_catalog()
    now = clock.now()
    actions.subscribe(
        reader, plan=catalog.monthly, card=card(reader, now=now), now=now, checkout_key="s" * 20
    )


def _start_trial(reader):
    from masthead.subscriptions.models import Offer

    make_catalog()
    actions.start_trial(reader, Offer.objects.get(code="free-trial"), now=clock.now(), card=None)


@pytest.mark.parametrize("change", [_subscribe, _start_trial], ids=lambda f: f.__name__)
def test_a_reader_who_subscribes_reads_in_full_on_the_next_request_anywhere(db, change):
    """The reader's cached "no subscription" is retired by the new subscription's creation
    (not only by a transition): the PostgreSQL suite once found it outliving a trial's start,
    because the receiver that retires it had been garbage-collected."""
    reader = factories.user()
    page = factories.article("Soon yours", access_level=AccessLevel.SUBSCRIBERS)
    here, there = signed_in(reader), signed_in(reader)
    assert not reads_in_full(here, page) and not reads_in_full(there, page)
    assert not reads_in_full(there, page)  # warm: "no subscription" is kept
    change(reader)
    forget_process_state()
    assert reads_in_full(there, page)
    assert reads_in_full(here, page)


def test_every_subscription_or_plan_save_retires_the_cached_state_after_a_collection(
    db, monkeypatch
):
    """Signals hold receivers weakly: the receivers must outlive a garbage collection."""
    import gc

    from masthead.core import reader_state

    bumped: list[object] = []
    monkeypatch.setattr(reader_state, "bump", lambda user_id: bumped.append(user_id))
    monkeypatch.setattr(reader_state, "bump_everyone", lambda: bumped.append("everyone"))
    gc.collect()
    reader = factories.user()
    bumped.clear()
    _subscribe(reader)
    assert reader.pk in bumped and "everyone" in bumped  # the plans made, the subscription
    from masthead.subscriptions.models import Subscription

    bumped.clear()
    Subscription.objects.get(user=reader).save()
    assert bumped == [reader.pk]
