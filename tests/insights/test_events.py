"""Recording and draining funnel events: where each moment is recorded (the article doors,
the narrow WSGI path, subscription actions, sign-up), the cost on the hot path, the drain's
batches and idempotence, retention, and a Redis outage."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from masthead.access import campaigns
from masthead.access.levels import AccessLevel
from masthead.core import clock, events, outage, redis_clients
from masthead.core import generation as site_generation
from masthead.core.models import PendingEvent
from masthead.insights import drain
from masthead.insights.models import Conversion, DailyCount, Event, ReaderDay, Step
from masthead.metering import policy as policy_module
from masthead.newsroom import routes
from masthead.subscriptions import actions
from tests import factories
from tests.insights.support import drained
from tests.metering.support import save_policy
from tests.newsroom.test_narrow_path import (  # noqa: F401
    apps,
    call,
    reader_cookie,
    served_narrow,
    warm,
)
from tests.own_redis import OwnRedis, free_port
from tests.subscriptions.conftest import card, make_catalog

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def clean_process_state() -> Iterator[None]:
    for forget in (policy_module.forget_policy, campaigns.forget_campaigns, site_generation.forget):
        forget()
    outage.reset()
    routes._known.clear()
    routes._shells.clear()
    yield
    outage.reset()
    routes._known.clear()
    routes._shells.clear()


@pytest.fixture(params=["table", "redis"])
def buffer(request, settings, tmp_path) -> Iterator[str]:
    """The buffer on the embedded default (the database table) and on a Redis of its own."""
    if request.param == "table":
        settings.INSIGHTS_REDIS_URL = ""
        yield "table"
        return
    server = OwnRedis(free_port(), str(tmp_path))
    server.start()
    settings.INSIGHTS_REDIS_URL = server.url
    try:
        yield "redis"
    finally:
        server.stop()
        redis_clients.forget()


def recorded() -> list[tuple[str, str, int | None, str]]:
    drained()
    return list(
        Event.objects.order_by("at", "pk").values_list("name", "reader", "article_id", "reason")
    )


def test_the_meters_moments_are_recorded_on_the_narrow_path(apps, buffer):  # noqa: F811
    save_policy(anonymous_allowance=2)
    one, two, three = (factories.article(f"Metered {n}") for n in range(3))
    full, _ = apps
    for page in (one, two, three):
        warm(full, page.url)
    events.discard_local()  # the warming reads were other (fresh) readers
    anonymous = uuid.uuid4().hex  # a reader no meter (Redis keeps its counts) has seen
    cookie = reader_cookie(anonymous)
    for page in (one, two, three):
        status, _, _ = served_narrow(apps, page.url, cookie=cookie)
        assert status == "200 OK"
    assert recorded() == [
        ("meter_shown", "a:" + anonymous, one.pk, ""),
        ("last_free_article", "a:" + anonymous, two.pk, ""),
        ("paywall_shown", "a:" + anonymous, three.pk, "meter_exhausted"),
    ]
    assert Event.objects.get(name="meter_shown").props == {"left": 1}


def test_the_full_stack_records_the_same_moments(client, buffer):
    save_policy(anonymous_allowance=1)
    free = factories.article("Free", access_level=AccessLevel.FREE)
    metered = factories.article("Metered")
    walled = factories.article("Walled", access_level=AccessLevel.SUBSCRIBERS)
    staff = factories.user(staff=True)
    for page in (free, metered, walled):
        assert client.get(page.url).status_code == 200
    client.force_login(staff)
    assert client.get(metered.url).status_code == 200  # staff: not in the funnel
    rows = recorded()
    assert [(name, article, reason) for name, _, article, reason in rows] == [
        ("article_read", free.pk, ""),
        ("last_free_article", metered.pk, ""),
        ("paywall_shown", walled.pk, "subscribers_only"),
    ]
    # A free article issues no cookie (its page stays cacheable), so that reader was a fresh
    # one; the meter's cookie then kept the metered and the walled read one reader.
    readers = [reader for _, reader, _, _ in rows]
    assert readers[1] == readers[2] != readers[0]


def _writes(narrow, page, cookie: str) -> list[str]:
    with CaptureQueriesContext(connection) as queries:
        status, _, _ = call(narrow, page.url, cookie=cookie)
    assert status == "200 OK"
    return [
        q["sql"]
        for q in queries.captured_queries
        if not q["sql"].lstrip().upper().startswith(("SELECT", "SAVEPOINT", "RELEASE"))
    ]


def test_the_article_hot_path_writes_no_sql(apps, buffer, settings):  # noqa: F811
    """Recording adds no SQL write to an article request: with Redis the batch is one
    pipelined round trip (here on this very request) and no SQL; on the embedded default
    one INSERT into the buffer table per full batch, never per request. The meter's own
    record (a database meter here, without Redis) is the same with recording on or off."""
    settings.INSIGHTS_BATCH = 1 if buffer == "redis" else 50
    page = factories.article("Costed")
    full, narrow = apps
    warm(full, page.url)
    served_narrow(apps, page.url)
    settings.INSIGHTS_ENABLED = False
    without = _writes(narrow, page, reader_cookie(uuid.uuid4().hex))
    settings.INSIGHTS_ENABLED = True
    events.discard_local()
    mine = uuid.uuid4().hex
    with_recording = _writes(narrow, page, reader_cookie(mine))
    assert len(with_recording) == len(without)
    assert not [q for q in with_recording if "pendingevent" in q or "insights_" in q]
    assert [name for name, reader, *_ in recorded() if reader == "a:" + mine] == ["meter_shown"]


def test_a_redis_outage_drops_the_events_with_one_log_line(apps, settings, caplog):  # noqa: F811
    settings.INSIGHTS_REDIS_URL = f"redis://127.0.0.1:{free_port()}/0"  # nobody listens
    settings.INSIGHTS_BATCH = 1
    redis_clients.forget()
    page = factories.article("Outage")
    full, narrow = apps
    warm(full, page.url)
    caplog.set_level(logging.ERROR, logger="masthead.outage")
    for _ in range(3):
        status, _, _ = call(narrow, page.url, cookie=reader_cookie("ef" * 16))
        assert status == "200 OK"
    lines = [r for r in caplog.records if r.getMessage().startswith("events store is down")]
    assert len(lines) == 1
    assert PendingEvent.objects.count() == 0
    redis_clients.forget()


def test_the_drain_is_batch_sized_and_idempotent(buffer, settings):
    settings.INSIGHTS_BATCH = 1000
    at = clock.now()
    for n in range(7):
        events.record(events.ARTICLE_READ, f"a:r{n}", at=at, after_commit=False, article=1)
    events.flush()
    batches: list[int] = []
    real = drain.ingest

    def counting(payloads):
        payloads = list(payloads)
        batches.append(len(payloads))
        return real(payloads)

    drain.ingest = counting  # type: ignore[assignment]
    try:
        assert drain.drain(None, batch=3) == 7
    finally:
        drain.ingest = real  # type: ignore[assignment]
    assert batches == [3, 3, 1]
    assert drain.drain(None, batch=3) == 0
    assert DailyCount.objects.get(name="article_read").count == 7
    # The same events again (a crash between the commit and the buffer's trim): nothing
    # is counted twice.
    again = [e for e in Event.objects.all()]
    payloads = [
        events.json.dumps(
            {
                "id": e.event_id,
                "n": e.name,
                "r": e.reader,
                "t": e.at.timestamp(),
                "p": {"article": 1},
            }
        )
        for e in again
    ]
    with transaction.atomic():
        assert drain.ingest(payloads) == 0
    assert Event.objects.count() == 7
    assert DailyCount.objects.get(name="article_read").count == 7
    assert ReaderDay.objects.filter(steps=Step.VISITED).count() == 7


def test_a_rolled_back_subscription_records_nothing_and_a_committed_one_does(
    django_capture_on_commit_callbacks, settings
):
    settings.INSIGHTS_REDIS_URL = ""
    catalog = make_catalog()
    reader = factories.user()
    now = clock.now()
    with django_capture_on_commit_callbacks(execute=True):
        sub = actions.start_trial(reader, catalog.trial, now=now, card=card(reader, now=now))
    with django_capture_on_commit_callbacks(execute=True):
        actions.cancel(sub, now=now, reason="too expensive")
    names = [(n, r) for n, r, *_ in recorded()]
    assert names == [("trial_started", f"u:{reader.pk}"), ("cancelled", f"u:{reader.pk}")]
    assert Event.objects.get(name="cancelled").reason == "too expensive"
    assert Event.objects.get(name="trial_started").offer_id == catalog.trial.pk
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        actions.subscribe(
            factories.user(), plan=catalog.monthly, card=card(reader, now=now), now=now
        )
    assert callbacks, "the first payment waits for the commit"
    assert Event.objects.filter(name="first_payment").count() == 0


def test_a_first_payment_after_a_trial_and_a_renewal_are_told_apart():
    from masthead.subscriptions.actions.transitions import funnel_event
    from masthead.subscriptions.models import EventKind, Status

    assert funnel_event(EventKind.RENEWED, Status.TRIALING, Status.ACTIVE) == "first_payment"
    assert funnel_event(EventKind.RENEWED, Status.ACTIVE, Status.ACTIVE) == "renewed"
    assert funnel_event(EventKind.RENEWED, Status.PAST_DUE, Status.ACTIVE) == "renewed"
    assert funnel_event(EventKind.SUBSCRIBED, "", Status.ACTIVE) == "first_payment"
    assert (
        funnel_event(EventKind.PAYMENT_FAILED, Status.ACTIVE, Status.PAST_DUE) == "payment_failed"
    )
    assert funnel_event(EventKind.EXPIRED, Status.CANCELLED, Status.EXPIRED) == "lapsed"
    assert funnel_event(EventKind.PROVIDER_SYNC, "", Status.TRIALING) == "trial_started"
    assert funnel_event(EventKind.PROVIDER_SYNC, Status.TRIALING, Status.ACTIVE) == "first_payment"
    assert funnel_event(EventKind.PROVIDER_SYNC, Status.ACTIVE, Status.ACTIVE) is None
    assert funnel_event(EventKind.REFUNDED, Status.ACTIVE, Status.ACTIVE) is None


def test_sign_up_names_the_anonymous_reader_it_was(
    client, settings, django_capture_on_commit_callbacks
):
    settings.INSIGHTS_REDIS_URL = ""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    save_policy(anonymous_allowance=1)
    page = factories.article("Read before signing up")
    assert client.get(page.url).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/accounts/signup/",
            {
                "email": "new@example.com",
                "password1": "a-long-pass-phrase-42",
                "password2": "a-long-pass-phrase-42",
            },
        )
    assert response.status_code in (200, 302)
    rows = recorded()
    assert [name for name, *_ in rows] == ["last_free_article", "signed_up"]
    anonymous = rows[0][1]
    signed_up = Event.objects.get(name="signed_up")
    assert signed_up.props == {"anon": anonymous.removeprefix("a:")}
    conversion = Conversion.objects.get()
    assert (conversion.kind, conversion.article_id) == ("signed_up", page.pk)


def test_raw_events_are_pruned_after_the_retention_and_aggregates_stay(settings):
    settings.INSIGHTS_REDIS_URL = ""
    settings.INSIGHTS_RETENTION_DAYS = 30
    now = clock.now()
    events.record(
        events.ARTICLE_READ, "a:old", at=now - timedelta(days=31), after_commit=False, article=1
    )
    events.record(
        events.ARTICLE_READ, "a:new", at=now - timedelta(days=29), after_commit=False, article=1
    )
    drained()
    assert drain.prune(now) == 1
    assert list(Event.objects.values_list("reader", flat=True)) == ["a:new"]
    assert ReaderDay.objects.count() == 2


def test_an_unknown_event_name_is_refused():
    with pytest.raises(ValueError):
        events.record("meter_shwon", "a:x")


def test_redis_drain_survives_a_stopped_server(settings, tmp_path):
    server = OwnRedis(free_port(), str(tmp_path))
    server.start()
    settings.INSIGHTS_REDIS_URL = server.url
    redis_clients.forget()
    events.record(events.ARTICLE_READ, "a:x", after_commit=False, article=1)
    server.stop()
    assert drained() == 0  # dropped, logged, no exception
    assert outage.is_down(events.STORE)
    redis_clients.forget()


def test_an_erased_account_leaves_no_raw_events(settings):
    from masthead.accounts.erasure import erase_reader
    from masthead.insights.models import ReaderAlias

    settings.INSIGHTS_REDIS_URL = ""
    reader = factories.user()
    at = clock.now()
    events.record(events.ARTICLE_READ, "a:before", at=at, after_commit=False, article=1)
    events.record(events.SIGNED_UP, f"u:{reader.pk}", at=at, after_commit=False, anon="before")
    events.record(events.ARTICLE_READ, "a:someone-else", at=at, after_commit=False, article=1)
    drained()
    erase_reader(reader, now=at, reason="The reader asked on 1 December", requested_by_reader=True)
    assert list(Event.objects.values_list("reader", flat=True)) == ["a:someone-else"]
    assert not ReaderAlias.objects.exists()
    assert ReaderDay.objects.count() == 3  # ids and bits only
