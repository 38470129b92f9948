"""Groups, members and institutions made through the real actions."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.test import RequestFactory

from masthead.billing.providers import TEST_CARD_SUCCEEDS
from masthead.groups import actions
from masthead.groups.models import Group, Institution, InstitutionDomain, InstitutionNetwork
from masthead.metering.identity import ReaderIdentity
from masthead.subscriptions.models import Interval, Plan
from tests import factories
from tests.gifts import support as gift_support

card = gift_support.card


def group_plan(*, price_minor: int = 1000, max_seats: int = 50) -> Plan:
    plan, _ = Plan.objects.get_or_create(
        slug="team",
        defaults={
            "name": "Team",
            "price_minor": price_minor,
            "interval": Interval.MONTH,
            "group": True,
            "max_seats": max_seats,
            "benefits": "Read all stories",
        },
    )
    return plan


def group(now: datetime, *, seats: int = 3, manager: Any = None, name: str = "Newsdesk") -> Group:
    manager = manager or factories.user()
    return actions.buy_group(
        manager,
        group_plan(),
        seats=seats,
        card=card(manager, TEST_CARD_SUCCEEDS, now),
        now=now,
        name=name,
    )


def member(grp: Group, now: datetime, user: Any = None) -> Any:
    user = user or factories.user()
    token = actions.invite(grp, user.email, actor=grp.manager, now=now).token
    actions.accept_invitation(token, user, now=now)
    return user


def institution(
    now: datetime,
    *,
    domains: tuple[str, ...] = ("uni.example",),
    networks: tuple[str, ...] = ("198.51.100.0/24", "2001:db8:17::/48"),
    slug: str = "uni",
    starts: timedelta = timedelta(days=30),
    ends: timedelta | None = timedelta(days=300),
) -> Institution:
    inst = Institution.objects.create(
        name="Uni of Example",
        slug=slug,
        starts_at=now - starts,
        ends_at=now + ends if ends is not None else None,
    )
    for domain in domains:
        InstitutionDomain.objects.create(institution=inst, domain=domain)
    for cidr in networks:
        InstitutionNetwork.objects.create(institution=inst, cidr=cidr)
    return inst


def reader_at(email: str, *, verified: bool = True) -> Any:
    return factories.user(email, verified=verified)


def identity(user: Any) -> ReaderIdentity:
    if user is None:
        return ReaderIdentity(user_id=None, anonymous_id="a" * 32)
    return ReaderIdentity(user_id=user.pk, anonymous_id=None, is_staff=bool(user.is_staff))


def request(user: Any = None, *, ip: str = "203.0.113.9", path: str = "/") -> Any:
    req = RequestFactory().get(path, REMOTE_ADDR=ip)
    req.reader = identity(user)
    req.user = (
        user or __import__("django.contrib.auth.models", fromlist=["AnonymousUser"]).AnonymousUser()
    )
    return req


def verified_address(user: Any, email: str) -> EmailAddress:
    return EmailAddress.objects.create(user=user, email=email, verified=True, primary=False)


def User() -> Any:
    return get_user_model()
