"""Staff manage institutions in the admin: bad domains and CIDR ranges are form errors (never
a 500, nothing saved), every save has its history row, and the usage report has a CSV."""

from __future__ import annotations

import pytest

from masthead.core import clock
from masthead.groups import actions
from masthead.groups.models import Institution, InstitutionEvent
from tests import factories
from tests.groups import support

pytestmark = pytest.mark.django_db

ADD = "/django-admin/groups/institution/add/"


@pytest.fixture
def staff(client):
    client.force_login(factories.user(staff=True))
    return client


def form(*, domains=("uni.example",), networks=("198.51.100.0/24",), **fields):
    data = {
        "name": "Uni of Example",
        "slug": "uni",
        "starts_at_0": "2026-01-01",
        "starts_at_1": "00:00:00",
        "ends_at_0": "",
        "ends_at_1": "",
        "contact": "library@uni.example",
        "domains-TOTAL_FORMS": str(len(domains)),
        "domains-INITIAL_FORMS": "0",
        "networks-TOTAL_FORMS": str(len(networks)),
        "networks-INITIAL_FORMS": "0",
    }
    for i, domain in enumerate(domains):
        data[f"domains-{i}-domain"] = domain
    for i, cidr in enumerate(networks):
        data[f"networks-{i}-cidr"] = cidr
    data.update(fields)
    return data


def test_staff_create_an_institution_with_domains_and_ranges_and_a_history_row(staff):
    response = staff.post(
        ADD, form(domains=("Uni.Example",), networks=("198.51.100.0/24", "2001:db8::/32"))
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    inst = Institution.objects.get()
    assert [d.domain for d in inst.domains.all()] == ["uni.example"]
    assert sorted(n.cidr for n in inst.networks.all()) == ["198.51.100.0/24", "2001:db8::/32"]
    event = InstitutionEvent.objects.get()
    assert event.kind == "created"
    assert event.data["domains"] == ["uni.example"]


@pytest.mark.parametrize(
    "cidr",
    ["198.51.100.0/33", "198.51.100.7/24", "not-a-network", "0.0.0.0/0", "2001:db8::/129", "::/0"],
)
def test_a_bad_range_is_a_form_error(staff, cidr):
    response = staff.post(ADD, form(networks=(cidr,)))
    assert response.status_code == 200
    assert "errorlist" in response.content.decode()
    assert not Institution.objects.exists()
    assert not InstitutionEvent.objects.exists()


@pytest.mark.parametrize(
    "domain",
    ["@uni.example", "uni", "*.uni.example", "uni .example", "-uni.example", "ünï.example"],
)
def test_a_bad_domain_is_a_form_error(staff, domain):
    response = staff.post(ADD, form(domains=(domain,)))
    assert response.status_code == 200
    assert "Enter a domain such as university.example" in response.content.decode()
    assert not Institution.objects.exists()


def test_an_end_before_the_start_is_a_form_error(staff):
    response = staff.post(ADD, form(ends_at_0="2025-01-01", ends_at_1="00:00:00"))
    assert response.status_code == 200
    assert "The access must end after it starts." in response.content.decode()


def test_the_usage_report_and_its_csv(staff):
    now = clock.now()
    inst = support.institution(now)
    support.reader_at("ada@uni.example")
    support.reader_at("bob@uni.example", verified=False)
    actions.record_institution_read(inst.pk, "domain", "u:1", now=now)
    actions.record_institution_read(inst.pk, "domain", "u:1", now=now)
    actions.record_institution_read(inst.pk, "network", "a:x", now=now)
    page = staff.get(f"/django-admin/groups/institution/{inst.pk}/usage/")
    assert page.status_code == 200
    csv = staff.get(f"/django-admin/groups/institution/{inst.pk}/usage.csv")
    assert csv["Content-Type"].startswith("text/csv")
    lines = csv.content.decode().splitlines()
    month = now.strftime("%Y-%m")
    assert lines[:2] == [
        "month,reads_by_domain,reads_by_network,readers_by_domain,readers_by_network",
        f"{month},2,1,1,1",
    ]
    assert lines[-2:] == ["domain,members_with_verified_address", "uni.example,1"]


def test_readers_cannot_open_the_institution_admin(client):
    client.force_login(factories.user())
    assert client.get(ADD).status_code == 302
