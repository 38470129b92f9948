"""Reader identity and carry-over of anonymous reads at sign-up and login."""

import pytest
from django.test import RequestFactory

from masthead.core import clock
from masthead.metering.actions import carry_over_anonymous_reads
from masthead.metering.identity import COOKIE_SALT
from masthead.metering.middleware import identify
from masthead.metering.models import MeterPolicy
from tests import factories

pytestmark = pytest.mark.django_db


def state(store, key, article):
    return store.state(key, article.pk, now=clock.now(), policy=MeterPolicy())


def test_anonymous_reader_without_cookie_is_fresh(settings):
    request = RequestFactory().get("/")
    request.user = _anonymous()
    reader = identify(request)
    assert (reader.user_id, reader.fresh, len(reader.anonymous_id)) == (None, True, 32)


def test_a_valid_cookie_identifies_the_same_reader(settings):
    request = RequestFactory().get("/")
    request.user = _anonymous()
    request.COOKIES[settings.READER_COOKIE_NAME] = _signed("1" * 32)
    reader = identify(request)
    assert (reader.anonymous_id, reader.fresh, reader.meter_key) == (
        "1" * 32,
        False,
        "a:" + "1" * 32,
    )


@pytest.mark.parametrize("value", ["garbage", "1" * 32, "x" * 32 + ":sig", ""])
def test_an_unsigned_or_tampered_cookie_is_ignored(settings, value):
    request = RequestFactory().get("/")
    request.user = _anonymous()
    request.COOKIES[settings.READER_COOKIE_NAME] = value
    reader = identify(request)
    assert reader.fresh is True and reader.anonymous_id != "1" * 32


def test_login_carries_anonymous_reads_into_the_account(client, store, settings):
    password = "correct-horse-42"
    account = factories.user(password=password)
    read_anonymously = [factories.article() for _ in range(2)]
    for article in read_anonymously:
        client.get(article.url)
    response = client.post(
        "/accounts/login/", {"login": account.email, "password": password}, follow=False
    )
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(account.pk)
    for article in read_anonymously:
        assert state(store, f"u:{account.pk}", article).counted
    # No fresh allowance by logging in: one article left.
    html = client.get(factories.article().url).content.decode()
    assert "This is your last free article this month" in html


def test_carry_over_is_a_union_not_a_sum(store):
    account = factories.user()
    shared, only_anonymous, only_account = (factories.article() for _ in range(3))
    from masthead.metering.actions import record_read
    from masthead.metering.identity import ReaderIdentity

    anonymous = ReaderIdentity(user_id=None, anonymous_id="2" * 32)
    registered = ReaderIdentity(user_id=account.pk, anonymous_id=None)
    now = clock.now()
    for article in (shared, only_anonymous):
        record_read(anonymous, article, now=now)
    for article in (shared, only_account):
        record_read(registered, article, now=now)
    assert carry_over_anonymous_reads("2" * 32, account.pk, now=now) == 1
    assert carry_over_anonymous_reads("2" * 32, account.pk, now=now) == 0
    assert state(store, f"u:{account.pk}", only_account).used == 3


def _signed(value: str) -> str:
    from django.core import signing

    return signing.get_cookie_signer(salt="mh_reader" + COOKIE_SALT).sign(value)


def _anonymous():
    from django.contrib.auth.models import AnonymousUser

    return AnonymousUser()
