"""The counter store is unreachable: the site keeps serving, as the policy says, and logs it."""

import logging

import pytest
from django.conf import settings
from django.core import signing

from masthead.access import doors
from masthead.access.decision import Level, Reason
from masthead.metering.identity import COOKIE_SALT, ReaderIdentity
from masthead.metering.stores import DatabaseMeterStore, MeterUnavailable, RedisMeterStore
from tests import factories
from tests.metering.support import save_policy

pytestmark = pytest.mark.django_db


class DownDatabaseStore(DatabaseMeterStore):
    def state(self, *args, **kwargs):
        raise MeterUnavailable("connection refused")

    def record(self, *args, **kwargs):
        raise MeterUnavailable("connection refused")


def unreachable_redis() -> RedisMeterStore:
    # Nothing listens on port 1 of this machine: every call fails fast.
    return RedisMeterStore("redis://127.0.0.1:1/0", prefix="down", timeout=0.05)


@pytest.fixture(params=["database", "redis"])
def down_store(request, monkeypatch):
    store = DownDatabaseStore() if request.param == "database" else unreachable_redis()
    monkeypatch.setattr("masthead.metering.actions.get_store", lambda: store)
    monkeypatch.setattr("masthead.access.decision.get_store", lambda: store)
    return store


def test_unreachable_store_raises_meter_unavailable():
    with pytest.raises(MeterUnavailable):
        unreachable_redis().state("a:x", 1, now=factories_now(), policy=policy())


def test_fail_open_serves_metered_articles_in_full_uncounted(client, down_store, caplog):
    article = factories.article(body=factories.paragraphs(5, prefix="Open"))
    known = ReaderIdentity(user_id=None, anonymous_id="9" * 32)  # returning: the store is asked
    request = _request(known)
    with caplog.at_level(logging.DEBUG, logger="masthead.access"):
        decision = doors.open_article(request, article)
    assert (decision.level, decision.reason, decision.message) == (
        Level.FULL,
        Reason.METER_UNAVAILABLE,
        "",
    )
    assert any("meter store unreachable" in r.getMessage() for r in caplog.records)
    response = client.get(article.url)  # a fresh reader: decide skips the store, record fails
    assert response.status_code == 200
    assert "Open 5 of the body" in response.content.decode()


def returning(client) -> None:
    """The client carries a valid reader cookie: the meter must be asked about it."""
    signer = signing.get_cookie_signer(salt=settings.READER_COOKIE_NAME + COOKIE_SALT)
    client.cookies[settings.READER_COOKIE_NAME] = signer.sign("9" * 32)


def test_fail_closed_serves_the_preview_with_a_message(client, down_store, caplog):
    save_policy(fail_mode="closed")
    article = factories.article(body=factories.paragraphs(5, prefix="Closed"))
    returning(client)
    with caplog.at_level(logging.DEBUG, logger="masthead.access"):
        response = client.get(article.url)
    html = response.content.decode()
    assert response.status_code == 200
    assert "Closed 2 of the body" in html
    assert "Closed 3 of the body" not in html
    assert "We could not check your free articles just now" in html
    assert any("failing closed" in r.getMessage() for r in caplog.records)


def test_a_fresh_reader_needs_no_store_even_failing_closed(client, down_store):
    """Without a cookie the reader has read nothing, and the first read is counted in the
    cookie, so the store being down changes nothing for them."""
    save_policy(fail_mode="closed")
    article = factories.article(body=factories.paragraphs(5, prefix="Fresh"))
    response = client.get(article.url)
    assert response.status_code == 200
    assert "Fresh 5 of the body" in response.content.decode()
    assert settings.READER_COOKIE_NAME in response.cookies


def test_free_and_subscriber_reads_do_not_need_the_store(client, down_store, monkeypatch):
    save_policy(fail_mode="closed")
    free = factories.article(access_level="free", body=factories.paragraphs(4, prefix="Free"))
    assert "Free 4 of the body" in client.get(free.url).content.decode()
    staff = factories.user(staff=True)
    client.force_login(staff)
    gated = factories.article(body=factories.paragraphs(4, prefix="Staff"))
    assert "Staff 4 of the body" in client.get(gated.url).content.decode()


def _request(reader):
    from django.test import RequestFactory

    request = RequestFactory().get("/")
    request.reader = reader
    return request


def factories_now():
    from masthead.core import clock

    return clock.now()


def policy():
    from masthead.metering.models import MeterPolicy

    return MeterPolicy()
