"""The paywall audit reads as a group member, a removed member, an institution member by
domain and by IP, a reader at an unverified institutional address and an outsider: 0 leaks
on every door; and a door that lets any of the gated ones read fails it (planted leaks)."""

from __future__ import annotations

import pytest

from masthead.core import clock
from masthead.groups import actions
from masthead.groups.models import Institution, SeatReads
from tests.audit.test_paywall_audit import audit, failing, gated_html, plant
from tests.groups import support

pytestmark = pytest.mark.django_db(transaction=True)

PERSONAS = [
    "group member",
    "removed member",
    "institution member by domain",
    "unverified institutional address",
    "outsider",
]


@pytest.fixture
def group():
    now = clock.now()
    grp = support.group(now, seats=3)
    support.member(grp, now)
    removed = support.member(grp, now)
    actions.remove_member(grp.memberships.get(user=removed), actor=grp.manager, now=now)
    return grp


def chosen(*names):
    return [arg for name in names for arg in ("--persona", name)]


def test_every_door_is_cut_for_every_group_and_institution_persona(
    live_server,
    newsroom,
    group,
    capsys,
    settings,
):
    settings.TRUSTED_PROXIES = ["127.0.0.1"]  # the audit stands inside a network by proxy
    member = group.memberships.exclude(user=group.manager).filter(removed_at__isnull=True).get()
    audit(live_server, *chosen(*PERSONAS, "institution member by IP"))
    out = capsys.readouterr().out
    assert "LEAK" not in out and "BLIND" not in out, out
    for name in [*PERSONAS, "institution member by IP"]:
        assert f"as {name}" in out or name in out, (name, out)
    assert not Institution.objects.filter(slug__startswith="paywall-audit").exists()  # gone
    assert not SeatReads.objects.filter(user=member.user).exists()  # usage put back


def test_without_trusted_proxies_a_forwarded_institution_address_reads_as_an_outsider(
    live_server,
    newsroom,
    capsys,
    settings,
):
    settings.TRUSTED_PROXIES = []
    audit(live_server, *chosen("institution address, untrusted peer"))
    out = capsys.readouterr().out
    assert "LEAK" not in out and "BLIND" not in out, out


def leaking_to(predicate):
    """A planted bug: every article page shows its gated text to readers `predicate` picks."""

    def rewrite(request, response):
        from masthead.newsroom.models import ArticlePage

        if request.path.startswith("/api/") or not predicate(request):
            return None
        for page in ArticlePage.objects.live():
            if request.path == page.get_url():
                response.content = response.content.replace(
                    b"</body>", gated_html(page.title).encode() + b"</body>", 1
                )
        return None

    return rewrite


def _email(request) -> str:
    return getattr(getattr(request, "user", None), "email", "") or ""


@pytest.mark.parametrize(
    ("persona", "predicate"),
    [
        (
            "removed member",
            lambda r: (
                r.user.is_authenticated
                and r.user.group_memberships.filter(removed_at__isnull=False).exists()
            ),
        ),
        ("unverified institutional address", lambda r: "-unverified-" in _email(r)),
        ("outsider", lambda r: r.META.get("HTTP_X_FORWARDED_FOR") == "203.0.113.73"),
        (
            "institution address, untrusted peer",
            lambda r: r.META.get("HTTP_X_FORWARDED_FOR") == "198.51.100.73",
        ),
    ],
    ids=["removed-member", "unverified-address", "outsider", "untrusted-forwarded-address"],
)
def test_a_door_that_lets_a_gated_persona_read_fails_the_audit(
    live_server,
    newsroom,
    group,
    capsys,
    monkeypatch,
    settings,
    persona,
    predicate,
):
    settings.TRUSTED_PROXIES = []
    plant(monkeypatch, settings, leaking_to(predicate))
    leaks = failing(live_server, capsys, personas=[persona, "institution member by domain"])
    assert leaks
    assert {line.split(" as ")[1].split(":")[0] for line in leaks} == {persona}, leaks
