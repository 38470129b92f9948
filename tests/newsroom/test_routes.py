"""The article route table: remembered pages skip Wagtail's routing, and never outlive a change."""

import pytest
from wagtail.models import PageViewRestriction

from masthead.newsroom import routes
from tests import factories


def served_from_route_table(client, url, django_assert_max_num_queries) -> str:
    client.get(url)  # Wagtail routes it and it is remembered
    # A fresh reader again: a returning one would also move the read their cookie carries
    # into the meter (the meter's queries, pinned by the metering tests, not the routes').
    client.cookies.clear()
    with django_assert_max_num_queries(3):
        response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


@pytest.mark.django_db
def test_a_remembered_article_and_its_print_view_skip_wagtail_routing(
    client, django_assert_max_num_queries
):
    page = factories.article("Remembered")
    html = served_from_route_table(client, page.url, django_assert_max_num_queries)
    assert '<h1 class="article-headline">Remembered</h1>' in html
    printed = served_from_route_table(client, f"{page.url}print/", django_assert_max_num_queries)
    assert '<body class="print-view">' in printed


@pytest.mark.django_db
def test_unpublishing_retires_the_route_at_once(client):
    page = factories.article()
    client.get(page.url)
    page.unpublish()
    assert client.get(page.url).status_code == 404


@pytest.mark.django_db
def test_a_new_slug_retires_the_old_address(client):
    page = factories.article()
    old_url = page.url
    client.get(old_url)
    page.slug = "renamed-story"
    page.save_revision().publish()
    assert client.get(old_url).status_code == 404
    assert client.get("/world/renamed-story/").status_code == 200


@pytest.mark.django_db
def test_articles_behind_a_view_restriction_are_never_remembered(client):
    page = factories.article("Members only")
    PageViewRestriction.objects.create(page=page.get_parent(), restriction_type="login")
    member = client.__class__()
    member.force_login(factories.user("member@example.com"))
    assert member.get(page.url).status_code == 200
    assert member.get(page.url).status_code == 200
    response = client.get(page.url)
    assert response.status_code == 302 and "/login" in response["Location"]


@pytest.mark.django_db
def test_a_route_stamped_before_a_publish_is_ignored(client, rf):
    page = factories.article("Before")
    request = rf.get(page.url)
    assert routes.lookup(request) is None
    routes.bump_generation()  # a publish lands while this request is loading the page
    routes.remember(request, page, print_view=False)
    assert routes.lookup(rf.get(page.url)) is None
