"""Staff edit the meter policy and campaigns in the Wagtail admin."""

import pytest

from masthead.metering.models import MeterPolicy
from masthead.metering.policy import current_policy
from tests import factories

pytestmark = pytest.mark.django_db

POLICY_URL = "/admin/settings/metering/meterpolicy/"


def form(**overrides):
    data = {
        "period_kind": "calendar_month",
        "rolling_days": "30",
        "anonymous_allowance": "3",
        "registered_allowance": "3",
        "preview_blocks": "2",
        "fail_mode": "open",
        "gift_allowance": "5",
        "gift_days": "7",
        "copy_left_one": "",
        "copy_left_other": "",
        "copy_last": "",
        "copy_exhausted": "",
        "copy_registration_wall": "",
        "copy_subscribers_only": "",
    }
    data.update(overrides)
    return data


@pytest.fixture
def staff_client(client):
    client.force_login(factories.user(staff=True))
    return client


def edit_url(client) -> str:
    """The policy's edit page (Wagtail creates the one row and redirects to it)."""
    response = client.get(POLICY_URL, follow=True)
    assert response.status_code == 200
    return response.redirect_chain[-1][0] if response.redirect_chain else POLICY_URL


def test_staff_change_the_allowance_and_it_applies_at_once(staff_client):
    response = staff_client.post(edit_url(staff_client), form(anonymous_allowance="5"))
    assert response.status_code == 302
    assert current_policy().anonymous_allowance == 5


def test_staff_set_the_gift_allowance_and_lifetime(staff_client):
    response = staff_client.post(edit_url(staff_client), form(gift_allowance="2", gift_days="3"))
    assert response.status_code == 302
    assert (current_policy().gift_allowance, current_policy().gift_days) == (2, 3)
    refused = staff_client.post(edit_url(staff_client), form(gift_days="0"))
    assert refused.status_code == 200
    assert current_policy().gift_days == 3


def test_an_unknown_placeholder_is_refused_with_a_message(staff_client):
    response = staff_client.post(
        edit_url(staff_client), form(copy_left_other="You have {numberArticlesLeft} left")
    )
    assert response.status_code == 200
    assert "Unknown placeholder {numberArticlesLeft}" in response.content.decode()
    assert MeterPolicy.objects.filter(copy_left_other__contains="number").count() == 0


def test_readers_cannot_reach_the_policy(client):
    client.force_login(factories.user())
    assert client.get(POLICY_URL).status_code in (302, 403)
    assert client.post(POLICY_URL, form(anonymous_allowance="99")).status_code in (302, 403)
    assert current_policy().anonymous_allowance == 3


def test_staff_schedule_a_campaign_in_the_admin(staff_client):
    assert staff_client.get("/admin/snippets/access/campaign/").status_code == 200
    assert staff_client.get("/admin/snippets/access/campaign/add/").status_code == 200
