"""Demo: a group plan, a group manager with members (one removed), and an institution with
a member by verified e-mail domain (idempotent). Logins are printed with the others."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import transaction

from masthead.billing.providers import TEST_CARD_SUCCEEDS
from masthead.core import clock
from masthead.groups import actions
from masthead.groups.models import Institution, InstitutionDomain, InstitutionNetwork, Membership
from masthead.subscriptions.demo import DEMO_PASSWORD, _card, _reader
from masthead.subscriptions.models import Interval, Plan

MANAGER = "manager@example.com"
MEMBER = "member@example.com"
FORMER = "former-member@example.com"
STUDENT = "student@northfield.example"
# A documentation range (RFC 5737): reach it through a trusted proxy's X-Forwarded-For.
DEMO_NETWORK = "198.51.100.0/24"


def load() -> list[str]:
    now = clock.now()
    plan, _ = Plan.objects.get_or_create(
        slug="team",
        defaults={
            "name": "Team",
            "price_minor": 900,
            "interval": Interval.MONTH,
            "group": True,
            "max_seats": 50,
            "benefits": "Read all stories with unlimited access\nA seat for each reader you invite",
        },
    )
    with transaction.atomic():
        inst, made = Institution.objects.get_or_create(
            slug="northfield",
            defaults={
                "name": "Northfield University",
                "starts_at": now - timedelta(days=30),
                "ends_at": now + timedelta(days=365),
                "contact": "the library desk, library@northfield.example",
            },
        )
        if made:
            InstitutionDomain.objects.create(institution=inst, domain="northfield.example")
            InstitutionNetwork.objects.create(institution=inst, cidr=DEMO_NETWORK)
    _reader(STUDENT)
    lines = [
        f"Institution member by domain (Northfield University): {STUDENT} / {DEMO_PASSWORD}; "
        f"its page: /institutions/northfield/ (by IP: {DEMO_NETWORK} through a trusted proxy)",
    ]
    if settings.PAYMENT_PROVIDER != "test":
        return lines
    manager, created = _reader(MANAGER)
    if created:
        group = actions.buy_group(
            manager,
            plan,
            seats=5,
            card=_card(manager, TEST_CARD_SUCCEEDS, now),
            now=now,
            name="Harbour Desk",
        )
        member, _ = _reader(MEMBER)
        token = actions.invite(group, MEMBER, actor=manager, now=now).token
        actions.accept_invitation(token, member, now=now)
        former, _ = _reader(FORMER)
        token = actions.invite(group, FORMER, actor=manager, now=now).token
        actions.accept_invitation(token, former, now=now)
        actions.remove_member(
            Membership.objects.get(group=group, user=former), actor=manager, now=now
        )
    lines += [
        f"Group manager (Team plan, 5 seats; invite from /account/group/): {MANAGER} / "
        f"{DEMO_PASSWORD}",
        f"Group member (reads on a seat): {MEMBER} / {DEMO_PASSWORD}",
    ]
    return lines
