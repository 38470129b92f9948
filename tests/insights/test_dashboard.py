"""The funnel dashboard: exact counts on a scripted population, the attribution rule, the
permission (anonymous, staff without it, staff with it), periods, and exact CSV content."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.utils import timezone

from masthead.core import clock, events
from masthead.insights import figures
from masthead.insights.models import Conversion
from tests import factories
from tests.insights.support import drained, population, script

pytestmark = pytest.mark.django_db
URL = "/admin/insights/"


@pytest.fixture(autouse=True)
def embedded_buffer(settings):
    settings.INSIGHTS_REDIS_URL = ""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def scripted():
    a = factories.article("The harbour story")
    b = factories.article("The council vote")
    at = clock.now() - timedelta(days=3)
    script(at, population(a.pk, b.pk))
    drained()
    return a, b


def viewer(*, permitted: bool):
    user = factories.user(staff=False)
    user.user_permissions.add(Permission.objects.get(codename="access_admin"))
    if permitted:
        user.user_permissions.add(Permission.objects.get(codename="view_insights"))
    return user


def test_the_funnel_counts_are_exact(scripted):
    rows = figures.funnel(figures.last_days(7))
    assert [(r.step, r.readers, r.drop_off) for r in rows] == [
        ("Visitors", 20, 0),
        ("Met the meter", 12, 8),
        ("Hit the paywall", 5, 7),
        ("Registered", 3, 2),
        ("Started a trial", 2, 1),
        ("Paid", 1, 1),
        ("Renewed", 0, 1),
    ]
    assert rows[1].of_previous == pytest.approx(12 / 20)


def test_a_period_that_misses_the_events_counts_none(scripted):
    today = timezone.localdate(clock.now())
    period = figures.Period(today - timedelta(days=40), today - timedelta(days=10))
    assert [r.readers for r in figures.funnel(period)] == [0] * 7


def test_conversions_go_to_the_last_article_read_before_converting(scripted):
    a, b = scripted
    # conv0 last saw b before signing up (and so before its trial and payment); conv1 and
    # conv2 last saw a.
    got = {(c.reader, c.kind): c.article_id for c in Conversion.objects.all()}
    assert got == {
        ("u:0", "signed_up"): b.pk,
        ("u:0", "trial_started"): b.pk,
        ("u:0", "first_payment"): b.pk,
        ("u:1", "signed_up"): a.pk,
        ("u:1", "trial_started"): a.pk,
        ("u:2", "signed_up"): a.pk,
    }
    rows = figures.by_article(figures.last_days(7))
    assert [(r.label, r.signed_up, r.trials, r.paid, r.revenue_minor) for r in rows] == [
        ("The council vote", 1, 1, 1, 1500),
        ("The harbour story", 2, 1, 0, 0),
    ]


def test_a_later_read_does_not_steal_an_earlier_conversion():
    a = factories.article("Before")
    b = factories.article("After")
    at = clock.now() - timedelta(days=1)
    script(
        at,
        {
            "u:9": [
                (events.ARTICLE_READ, {"article": a.pk}),
                (events.TRIAL_STARTED, {"offer": 3}),
                (events.ARTICLE_READ, {"article": b.pk}),
            ]
        },
    )
    drained()
    assert Conversion.objects.get().article_id == a.pk


def test_anonymous_readers_are_sent_to_sign_in(client, scripted):
    response = client.get(URL)
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_staff_without_the_permission_get_403(client, scripted):
    client.force_login(viewer(permitted=False))
    response = client.get(URL)
    assert response.status_code == 403
    assert "Visitors" not in response.content.decode()
    assert client.get(URL + "?csv=funnel").status_code == 403


def test_a_reader_who_is_not_staff_never_enters(client, scripted):
    client.force_login(factories.user())
    assert client.get(URL).status_code == 302


def test_staff_with_the_permission_see_the_chart_and_tables(client, scripted):
    client.force_login(viewer(permitted=True))
    response = client.get(URL + "?days=7")
    assert response.status_code == 200
    html = response.content.decode()
    assert '<svg class="insights-chart" role="img"' in html
    assert '<title id="funnel-title">' in html
    assert "Visitors 20, Met the meter 12, Hit the paywall 5" in html
    assert "The council vote" in html
    assert response["Cache-Control"].startswith("private, no-store")


def test_the_funnel_csv_is_exact(client, scripted):
    client.force_login(viewer(permitted=True))
    response = client.get(URL + "?days=7&csv=funnel")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response.content.decode() == (
        "step,readers,of previous step,lost since previous step\n"
        "Visitors,20,,0\n"
        "Met the meter,12,60.0%,8\n"
        "Hit the paywall,5,41.7%,7\n"
        "Registered,3,60.0%,2\n"
        "Started a trial,2,66.7%,1\n"
        "Paid,1,50.0%,1\n"
        "Renewed,0,0.0%,1\n"
    )


def test_the_article_and_offer_csvs_are_exact(client, scripted):
    client.force_login(viewer(permitted=True))
    articles = client.get(URL + "?days=7&csv=articles").content.decode()
    assert articles == (
        "article,sign-ups,trials,first payments,first-payment revenue\n"
        "The council vote,1,1,1,15.00\n"
        "The harbour story,2,1,0,0.00\n"
    )
    offers = client.get(URL + "?days=7&csv=offers").content.decode()
    assert offers == "offer,trials,first payments,first-payment revenue\n#7,2,1,15.00\n"


@pytest.mark.parametrize(
    "query",
    [
        "?start=2026-01-10&end=2026-01-01",
        "?start=2026-01-10",
        "?start=yesterday&end=x",
        "?days=13",
        "?csv=nope",
    ],
)
def test_bad_periods_get_a_helpful_page_not_a_500(client, scripted, query):
    client.force_login(viewer(permitted=True))
    response = client.get(URL + query)
    assert response.status_code in (200, 404)
    if query == "?csv=nope":
        assert response.status_code == 404
    else:
        assert "The funnel" in response.content.decode()


def test_from_to_dates_choose_the_period(client, scripted):
    client.force_login(viewer(permitted=True))
    today = timezone.localdate(clock.now())
    start, end = today - timedelta(days=5), today
    response = client.get(URL + f"?days=&start={start:%Y-%m-%d}&end={end:%Y-%m-%d}&csv=funnel")
    assert response.content.decode().splitlines()[1] == "Visitors,20,,0"
    response = client.get(URL + f"?days=&start={start:%Y-%m-%d}&end={start:%Y-%m-%d}&csv=funnel")
    assert response.content.decode().splitlines()[1] == "Visitors,0,,0"


def test_churn_and_cancel_reasons_csv_are_exact(client):
    at = clock.now() - timedelta(days=2)
    script(
        at,
        {
            "u:1": [
                (events.CANCELLED, {"reason": "too expensive"}),
                (events.LAPSED, {"reason": "active"}),
            ],
            "u:2": [(events.CANCELLED, {"reason": "too expensive"})],
            "u:3": [(events.CANCELLED, {"reason": ""}), (events.LAPSED, {"reason": "active"})],
            "u:4": [(events.PAYMENT_FAILED, {}), (events.LAPSED, {"reason": "passive"})],
            "u:5": [(events.RENEWED, {"amount_minor": 1500})],
        },
    )
    drained()
    client.force_login(viewer(permitted=True))
    assert client.get(URL + "?days=7&csv=churn").content.decode() == (
        "what,subscriptions\n"
        '"Lapsed: active (cancelled, or a trial that ended)",2\n'  # quoted: it has a comma
        "Lapsed: passive (payment failed for good),1\n"
        "Cancellations,3\n"
        "Failed payments,1\n"
        "Renewals,1\n"
    )
    assert client.get(URL + "?days=7&csv=cancel_reasons").content.decode() == (
        "reason,cancellations\ntoo expensive,2\n(no reason given),1\n"
    )
