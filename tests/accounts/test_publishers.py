"""The demo's Publishers login can schedule a campaign, change the meter policy and manage
offers and plans, and cannot edit articles."""

import pytest

from masthead.core import demo
from masthead.core.publishers import PERMISSIONS

pytestmark = pytest.mark.django_db


def test_demo_publisher_has_campaign_policy_offer_and_plan_permissions(client):
    lines = demo.load()
    assert lines == [
        "Publisher login (campaigns, meter policy, offers, plans): publisher@meridian.example / "
        "meridian-publisher-2026 at http://127.0.0.1:8000/admin/ and /django-admin/"
    ]
    assert demo.load() == lines  # idempotent
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.get(email=demo.PUBLISHER_EMAIL)
    assert user.is_staff and not user.is_superuser
    for app_label, codename in PERMISSIONS:
        assert user.has_perm(f"{app_label}.{codename}"), codename
    assert not user.has_perm("subscriptions.delete_plan")
    assert not user.has_perm("wagtailcore.publish_page")
    assert client.login(username=demo.PUBLISHER_EMAIL, password=demo.PUBLISHER_PASSWORD)
    assert client.get("/admin/snippets/access/campaign/add/").status_code == 200
    assert client.get("/admin/settings/metering/meterpolicy/").status_code in (200, 302)
    assert client.get("/django-admin/subscriptions/offer/add/").status_code == 200
    assert client.get("/django-admin/subscriptions/plan/").status_code == 200
