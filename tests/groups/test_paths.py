"""IP-range access on the hot paths (decision 0025): the narrow WSGI path consults the range
(a reader inside gets the article in full, privately; the next outsider gets the preview),
and the listings' shared copy is neither served to nor kept from a reader inside a range."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from masthead.core import clock
from masthead.newsroom.models import AccessLevel
from tests import factories
from tests.groups import support
from tests.newsroom.test_narrow_path import (
    assert_same,
    call,
    clean_process_state,  # noqa: F401
    served_narrow,
    warm,
)

pytestmark = pytest.mark.django_db(transaction=False)

LAST = "zqinstitutionlastword"
INSIDE = "198.51.100.77"
OUTSIDE = "203.0.113.9"


@pytest.fixture
def members_only(db):
    body = [*factories.paragraphs(3), ("paragraph", f"<p>The end {LAST}.</p>")]
    return factories.article("Members", access_level=AccessLevel.SUBSCRIBERS, body=body)


@pytest.fixture
def uni(db):
    return support.institution(clock.now())


def headers(answer):
    return dict(answer[1])


def test_the_narrow_path_consults_the_range_both_ways(apps, members_only, uni):
    full, _ = apps
    warm(full, members_only.url)
    inside = served_narrow(apps, members_only.url, REMOTE_ADDR=INSIDE)
    assert inside[0] == "200 OK" and LAST.encode() in inside[2]
    assert b"Access provided by Uni of Example" in inside[2]
    assert "private" in headers(inside)["Cache-Control"]
    outside = served_narrow(apps, members_only.url, REMOTE_ADDR=OUTSIDE)
    assert outside[0] == "200 OK" and LAST.encode() not in outside[2]
    again = served_narrow(apps, members_only.url, REMOTE_ADDR=INSIDE)
    assert LAST.encode() in again[2]


def test_the_narrow_path_serves_an_inside_reader_what_the_full_stack_serves(
    apps, members_only, uni
):
    full, _ = apps
    warm(full, members_only.url)
    assert_same(
        call(full, members_only.url, REMOTE_ADDR=INSIDE),
        served_narrow(apps, members_only.url, REMOTE_ADDR=INSIDE),
    )


def test_the_range_check_costs_an_outsider_no_query_once_the_table_is_held(apps, members_only, uni):
    full, _ = apps
    warm(full, members_only.url)
    served_narrow(apps, members_only.url, REMOTE_ADDR=OUTSIDE)
    with CaptureQueriesContext(connection) as with_ranges:
        served_narrow(apps, members_only.url, REMOTE_ADDR=OUTSIDE)
    uni.networks.all().delete()  # bumps the site generation: the route is learnt again
    warm(full, members_only.url)
    served_narrow(apps, members_only.url, REMOTE_ADDR=OUTSIDE)
    with CaptureQueriesContext(connection) as without_ranges:
        served_narrow(apps, members_only.url, REMOTE_ADDR=OUTSIDE)
    assert len(with_ranges) == len(without_ranges)
    counts = f"{len(with_ranges)} with ranges, {len(without_ranges)} without"
    print(f"\nqueries per outsider request on the narrow path: {counts}")


def test_a_listing_kept_for_outsiders_is_not_served_to_a_reader_inside_a_range(apps, uni):
    factories.article("Listed")
    full, narrow = apps
    assert call(full, "/", REMOTE_ADDR=OUTSIDE)[0] == "200 OK"  # built and kept
    served_narrow(apps, "/", REMOTE_ADDR=OUTSIDE)  # the shared copy
    before = full.calls
    assert call(narrow, "/", REMOTE_ADDR=INSIDE)[0] == "200 OK"
    assert full.calls == before + 1  # rendered for this reader, not the shared copy


def test_a_listing_rendered_for_a_reader_inside_a_range_is_not_kept(apps, uni):
    factories.article("Listed")
    full, narrow = apps
    assert call(full, "/", REMOTE_ADDR=INSIDE)[0] == "200 OK"
    before = full.calls
    call(narrow, "/", REMOTE_ADDR=OUTSIDE)
    assert full.calls == before + 1  # nothing was kept: the outsider's request builds it


def test_the_institution_page_tells_a_visitor_whether_they_are_covered(client, uni):
    outside = client.get("/institutions/uni/", REMOTE_ADDR=OUTSIDE)
    text = outside.content.decode()
    assert outside.status_code == 200 and "You are not covered yet." in text
    assert "uni.example" in text and "Create an account" in text
    assert "no-store" in outside["Cache-Control"] or "private" in outside["Cache-Control"]
    inside = client.get("/institutions/uni/", REMOTE_ADDR=INSIDE).content.decode()
    assert "You are covered." in inside and "network" in inside
    ada = support.reader_at("ada@uni.example")
    client.force_login(ada)
    mine = client.get("/institutions/uni/", REMOTE_ADDR=OUTSIDE).content.decode()
    assert "Your verified e-mail address" in mine
    assert client.get("/institutions/nowhere/").status_code == 404
