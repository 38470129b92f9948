"""Bounded storage: a reader who never keeps the cookie leaves nothing in either store; the
first read rides in the signed cookie until it comes back; the jobs runner prunes the reads
of ended windows."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from masthead.core.jobs import run_due_jobs
from masthead.metering.models import MeteredRead, ReaderMeter
from masthead.metering.stores import DatabaseMeterStore, MeterState, RedisMeterStore
from tests import factories
from tests.metering.support import SEPT_15, save_policy

pytestmark = pytest.mark.django_db


def redis_keys(store) -> list[bytes]:
    if not isinstance(store, RedisMeterStore):
        return []
    return list(store.client.scan_iter(match=f"{store.prefix}:*"))


def test_cookie_less_reads_leave_nothing_in_the_store(client, store):
    article = factories.article(body=factories.paragraphs(5, prefix="Bot"))
    for _ in range(25):
        client.cookies.clear()  # a client that never keeps cookies
        response = client.get(article.url)
        assert "Bot 5 of the body" in response.content.decode()
        assert settings.READER_COOKIE_NAME in response.cookies
    assert MeteredRead.objects.count() == 0
    assert ReaderMeter.objects.count() == 0
    assert redis_keys(store) == []


def test_the_first_read_rides_in_the_cookie_until_it_comes_back(client, store):
    first, second, third, fourth = (
        factories.article(body=factories.paragraphs(4, prefix=f"Art{n}")) for n in range(4)
    )
    response = client.get(first.url)
    cookie = response.cookies[settings.READER_COOKIE_NAME].value
    assert f".{first.pk}." in cookie.split(":")[0]
    assert MeteredRead.objects.count() == 0 and redis_keys(store) == []

    response = client.get(second.url)  # the cookie came back: both reads are in the store
    anonymous_id = cookie.split(":")[0].split(".")[0]
    state = store.state(f"a:{anonymous_id}", first.pk, now=_now(), policy=_policy())
    assert state == MeterState(used=2, counted=True)
    rewritten = response.cookies[settings.READER_COOKIE_NAME].value
    assert rewritten.split(":")[0] == anonymous_id  # no read carried any more
    assert "This is your last free article" in client.get(third.url).content.decode()
    html = client.get(fourth.url).content.decode()
    assert "Art3 4 of the body" not in html
    assert "You have read all 3 free articles" in html
    assert MeteredRead.objects.filter(reader_key=f"a:{anonymous_id}").count() == 3


def test_a_reader_refused_by_a_zero_allowance_carries_nothing(client, store):
    save_policy(anonymous_allowance=0)
    article = factories.article(body=factories.paragraphs(4, prefix="Zero"))
    response = client.get(article.url)
    assert "Zero 4 of the body" not in response.content.decode()
    assert "." not in response.cookies[settings.READER_COOKIE_NAME].value.split(":")[0]


def test_the_jobs_runner_prunes_reads_of_ended_windows():
    database = DatabaseMeterStore()
    policy = _policy()
    for article in (1, 2):
        database.record("a:old", article, allowance=3, now=SEPT_15, policy=policy)
    october = SEPT_15 + timedelta(days=30)
    database.record("a:current", 1, allowance=3, now=october, policy=policy)
    # Lock rows are pruned only a day after they were made (by the real clock).
    ReaderMeter.objects.update(created_at=timezone.now() - timedelta(days=2))
    # September's window closed on October 1st; a day later its reads are pruned.
    assert run_due_jobs(SEPT_15 + timedelta(days=16))["metering.prune_meter"] == 0
    assert run_due_jobs(october + timedelta(days=2))["metering.prune_meter"] == 2
    assert list(MeteredRead.objects.values_list("reader_key", flat=True)) == ["a:current"]
    assert list(ReaderMeter.objects.values_list("reader_key", flat=True)) == ["a:current"]
    assert run_due_jobs(october + timedelta(days=2))["metering.prune_meter"] == 0


def _now():
    from masthead.core import clock

    return clock.now()


def _policy():
    from masthead.metering.policy import current_policy

    return current_policy()
