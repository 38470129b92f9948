"""The apps API never sends text past the preview cut to a reader who may not read it.

Permission matrix: anonymous, registered, subscriber, lapsed subscriber, staff, and a
registered reader whose meter is spent, on free, metered and subscribers-only articles.
Subscriptions are made through the subscriptions domain's own actions.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from masthead.core import clock
from masthead.metering.policy import current_policy
from masthead.newsroom.models import AccessLevel
from masthead.subscriptions.actions import expire, grant_comp
from masthead.subscriptions.models import Plan
from tests import factories

pytestmark = pytest.mark.django_db

BODY_BLOCKS = 6
FULL = {
    AccessLevel.FREE: {"anonymous", "registered", "subscriber", "lapsed", "staff", "spent"},
    # Metered reads need an identity to count against: an app client without a token has none.
    AccessLevel.METERED: {"registered", "subscriber", "staff"},
    AccessLevel.SUBSCRIBERS: {"subscriber", "staff"},
}


def _complimentary(user):
    plan = Plan.objects.create(name="Monthly", slug="monthly", price_minor=1500)
    now = clock.now()
    return grant_comp(
        user, until=now + timedelta(days=30), now=now, actor=None, reason="test", plan=plan
    )


def _headers_for(principal: str, client, bearer) -> dict[str, str]:
    if principal == "anonymous":
        return {}
    user = factories.user(staff=principal == "staff")
    headers = bearer(user)
    if principal == "subscriber":
        _complimentary(user)
    elif principal == "lapsed":
        expire(_complimentary(user), now=clock.now(), reason="test")
    elif principal == "spent":
        for _ in range(current_policy().allowance_for(registered=True)):
            other = factories.article(access_level=AccessLevel.METERED)
            response = client.get(f"/api/v1/articles/{other.pk}", headers=headers)
            assert response.json()["access"]["level"] == "full"
    return headers


@pytest.mark.parametrize("level", list(FULL))
@pytest.mark.parametrize(
    "principal", ["anonymous", "registered", "subscriber", "lapsed", "staff", "spent"]
)
def test_detail_sends_only_what_this_reader_may_read(client, bearer, principal, level):
    headers = _headers_for(principal, client, bearer)
    article = factories.article("Gated piece", access_level=level)
    response = client.get(f"/api/v1/articles/{article.pk}", headers=headers)
    assert response.status_code == 200
    text = response.content.decode()
    access = response.json()["access"]
    paragraphs = [f"Gated piece paragraph {n} of the body." for n in range(1, BODY_BLOCKS + 1)]

    if principal in FULL[level]:
        assert access["level"] == "full" and access["truncated"] is False
        assert all(paragraph in text for paragraph in paragraphs)
        return
    cut = current_policy().preview_blocks
    assert 0 < cut < BODY_BLOCKS
    assert access["level"] == "preview" and access["truncated"] is True
    assert access["message"]  # the one message that explains why, already rendered
    assert "{{" not in access["message"]
    assert len(response.json()["body"]) == cut
    assert all(paragraph in text for paragraph in paragraphs[:cut])
    assert not any(paragraph in text for paragraph in paragraphs[cut:])


def test_a_lapsed_subscriber_is_told_their_access_expired(client, bearer):
    headers = _headers_for("lapsed", client, bearer)
    article = factories.article(access_level=AccessLevel.SUBSCRIBERS)
    access = client.get(f"/api/v1/articles/{article.pk}", headers=headers).json()["access"]
    assert access["reason"] == "lapsed_subscription"
    assert "has expired" in access["message"]


def test_listing_never_carries_gated_text_for_anyone(client, bearer):
    article = factories.article("Locked", access_level=AccessLevel.SUBSCRIBERS)
    for principal in ["anonymous", "subscriber", "staff"]:
        response = client.get("/api/v1/articles", headers=_headers_for(principal, client, bearer))
        assert [item["id"] for item in response.json()["items"]] == [article.pk]
        assert "Locked paragraph" not in response.content.decode()


def test_a_client_without_a_token_cannot_read_metered_articles_by_dropping_cookies(client):
    article = factories.article("Metered piece", access_level=AccessLevel.METERED)
    for _ in range(5):
        client.cookies.clear()
        access = client.get(f"/api/v1/articles/{article.pk}").json()["access"]
        assert access["level"] == "preview"
        assert access["truncated"] is True
