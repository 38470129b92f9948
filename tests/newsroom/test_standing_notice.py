"""The past-due banner (the standing notice, docs/dunning.md): on every page for a past-due
reader and nobody else; never kept in a page another reader is served (the signed-out shells
and listings, the narrow path); gone on the next request after the payment recovers, in
any process."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings
from django.core import signals
from django.db import close_old_connections
from django.test import Client
from django.urls import reverse

from masthead.access.levels import AccessLevel
from masthead.billing.providers import (
    TEST_CARD_FAILS_ON_RENEWAL,
    TEST_CARD_SUCCEEDS,
    CardDetails,
    TestProvider,
)
from masthead.core import clock
from masthead.subscriptions import actions
from masthead.subscriptions.entitlements import Entitlement
from masthead.subscriptions.models import Offer, Plan, Status
from masthead.subscriptions.standing import NOTICES, Standing, standing_notice
from tests import factories
from tests.newsroom.test_article_request_costs import forget_process_state
from tests.newsroom.test_narrow_path import apps, call, served_narrow, warm  # noqa: F401
from tests.subscriptions.conftest import card, make_catalog

pytestmark = pytest.mark.django_db
BANNER = 'class="standing-notice'
WORDS = "Your last payment didn&#x27;t go through —"


@pytest.fixture(autouse=True)
def quick(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    forget_process_state()
    yield
    forget_process_state()


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user, backend=settings.AUTHENTICATION_BACKENDS[0])
    return client


def catalogued() -> None:
    if not Offer.objects.exists():
        make_catalog()


def subscribed(number=TEST_CARD_SUCCEEDS):
    catalogued()
    monthly = Plan.objects.get(slug="monthly")
    reader = factories.user()
    now = clock.now()
    sub = actions.subscribe(reader, plan=monthly, card=card(reader, number, now=now), now=now)
    return reader, sub


def past_due_reader():
    reader, sub = subscribed(TEST_CARD_FAILS_ON_RENEWAL)
    actions.record_payment_failure(sub, now=clock.now(), reason="card declined")
    sub.refresh_from_db()
    return reader, sub


def persona(name: str):
    """A signed-in client for the persona, or an anonymous one."""
    if name == "anonymous":
        return Client()
    if name == "registered":
        return signed_in(factories.user())
    if name == "staff":
        return signed_in(factories.user(staff=True))
    if name == "trialist":
        catalogued()
        reader = factories.user()
        actions.start_trial(
            reader, Offer.objects.get(code="free-trial"), now=clock.now(), card=None
        )
        return signed_in(reader)
    if name == "subscriber":
        return signed_in(subscribed()[0])
    if name == "lapsed":
        reader, sub = subscribed()
        actions.expire(sub, now=clock.now(), reason="test")
        return signed_in(reader)
    if name == "paused":
        reader, sub = subscribed()
        actions.pause(sub, 1, now=clock.now())
        return signed_in(reader)
    assert name == "past_due"
    return signed_in(past_due_reader()[0])


def has_banner(client: Client, path: str) -> bool:
    response = client.get(path)
    assert response.status_code == 200, (path, response.status_code)
    return BANNER in response.content.decode()


PERSONAS = [
    "anonymous",
    "registered",
    "trialist",
    "subscriber",
    "lapsed",
    "staff",
    "past_due",
    "paused",
]
# Who gets which notice on every page: nobody else gets one.
NOTICE_OF = {"past_due": "standing-notice--past_due", "paused": "standing-notice--paused"}


@pytest.mark.parametrize("name", PERSONAS)
def test_only_a_past_due_or_paused_reader_sees_a_banner_on_every_page(name):
    factories.home_page()
    article = factories.article("Banner story", access_level=AccessLevel.SUBSCRIBERS)
    free = factories.article("Free story", access_level=AccessLevel.FREE)
    client = persona(name)
    paths = ["/", article.url, free.url, "/offers/", "/search/?q=story"]
    if name != "anonymous":
        paths += ["/account/subscription/", reverse("account_overview")]
    pages = {path: client.get(path) for path in paths}
    assert {p: r.status_code for p, r in pages.items()} == dict.fromkeys(paths, 200)
    seen = {p: r.content.decode() for p, r in pages.items()}
    assert {p: BANNER in html for p, html in seen.items()} == dict.fromkeys(
        paths, name in NOTICE_OF
    )
    if name in NOTICE_OF:
        assert all(NOTICE_OF[name] in html for html in seen.values())


def test_the_banner_says_what_to_do_links_the_card_page_and_is_a_labelled_region():
    factories.home_page()
    client = persona("past_due")
    html = client.get("/").content.decode()
    assert (
        '<div class="standing-notice standing-notice--past_due" role="region" '
        'aria-label="Payment problem"><p class="standing-notice__inner">'
        f'<span class="standing-notice__text">{WORDS}</span> '
        '<a class="standing-notice__link" href="/account/payment-method/">'
        "update your card to keep reading</a></p></div>"
    ) in html
    assert client.get("/account/payment-method/").status_code == 200


def test_every_status_but_past_due_and_paused_gets_no_notice():
    assert set(NOTICES) == {Standing.PAST_DUE, Standing.PAUSED}
    for status in [*Status.values, "none"]:
        notice = standing_notice(Entitlement(reads_everything=True, status=status))
        assert (notice is not None) is (status in (Status.PAST_DUE, Status.PAUSED)), status


def test_the_paused_banner_links_the_account_page_where_resume_is():
    factories.home_page()
    html = persona("paused").get("/").content.decode()
    assert (
        '<div class="standing-notice standing-notice--paused" role="region" '
        'aria-label="Subscription paused"><p class="standing-notice__inner">'
        '<span class="standing-notice__text">Your subscription is paused —</span> '
        '<a class="standing-notice__link" href="/account/subscription/">'
        "resume it to read everything again</a></p></div>"
    ) in html


def test_a_past_due_reader_whose_grace_ended_gets_no_banner_but_the_paywall(monkeypatch):
    factories.home_page()
    reader, sub = past_due_reader()
    client = signed_in(reader)
    assert has_banner(client, "/")
    later = sub.grace_until + timedelta(seconds=1)
    monkeypatch.setattr(clock, "now", lambda: later)
    forget_process_state()
    assert not has_banner(client, "/")


def test_the_banner_is_never_served_to_another_reader(apps):  # noqa: F811
    """Signed-out pages are built once and shared (listings, article shells, the narrow
    path): a past-due reader's requests in between leave nothing in them."""
    full, _ = apps
    factories.home_page()
    article = factories.article("Shared story", access_level=AccessLevel.FREE)
    anonymous, past_due, subscriber = Client(), persona("past_due"), persona("subscriber")
    for _ in range(2):
        assert not has_banner(anonymous, "/") and not has_banner(anonymous, article.url)
        assert has_banner(past_due, "/") and has_banner(past_due, article.url)
        assert not has_banner(subscriber, "/") and not has_banner(subscriber, article.url)
    assert has_banner(past_due, article.url)
    # Django's test client connected the connection-closing receivers again when it ended;
    # the WSGI calls below must keep the test's connection (as the `apps` fixture arranges).
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    warm(full, article.url)
    status, _, body = served_narrow(apps, article.url)
    assert status == "200 OK" and BANNER not in body.decode()
    status, _, body = call(full, "/")
    assert status == "200 OK" and BANNER not in body.decode()


def test_the_banner_goes_on_the_next_request_after_recovery_in_any_process():
    factories.home_page()
    article = factories.article("Recovered story", access_level=AccessLevel.SUBSCRIBERS)
    reader, sub = past_due_reader()
    here, there = signed_in(reader), signed_in(reader)
    for client in (here, there, there):  # warm in "the other worker" too
        assert has_banner(client, article.url) and has_banner(client, "/")
    new_card = TestProvider().save_card(
        reader, CardDetails(TEST_CARD_SUCCEEDS, 12, 2030, "123"), now=clock.now()
    )
    actions.update_card(reader, new_card, now=clock.now())  # retried at once: paid
    sub.refresh_from_db()
    assert sub.status == Status.ACTIVE
    forget_process_state()  # the next request is served by another process
    assert not has_banner(there, article.url) and not has_banner(there, "/")
    assert not has_banner(here, article.url)


def test_the_banner_comes_back_when_a_payment_fails_in_another_process():
    factories.home_page()
    reader, sub = subscribed(TEST_CARD_FAILS_ON_RENEWAL)
    client = signed_in(reader)
    assert not has_banner(client, "/") and not has_banner(client, "/")
    actions.record_payment_failure(sub, now=clock.now(), reason="card declined")
    forget_process_state()
    assert has_banner(client, "/")
