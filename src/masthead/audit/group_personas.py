"""Personas for seats and institutions (decision 0036): a group member and a removed member
(existing accounts, like the subscription states: a group needs a subscription, which is
append-only history), and, on an institution the audit makes for its run and removes
afterwards, a member by verified domain, a reader at an unverified institutional address,
a reader inside its network (only when the site believes the audit's forwarded address, i.e.
the audit's address is a trusted proxy) and an outsider whose forwarded address is not in it.
A reader who sends an institution's address from an untrusted peer is an outsider too: the
site must not believe the header, and the audit expects the outsider's view."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model

from masthead.core import clientip, clock
from masthead.groups.models import Institution, InstitutionDomain, InstitutionNetwork, Membership

# Documentation ranges (RFC 5737): never a real reader's address.
NETWORK = "198.51.100.0/24"
INSIDE = "198.51.100.73"
OUTSIDE = "203.0.113.73"


def live_member() -> Any:
    """A reader holding a seat in a group whose subscription gives access, not its manager."""
    now = clock.now()
    for membership in (
        Membership.objects.filter(removed_at__isnull=True, user__is_staff=False)
        .select_related("group__subscription", "user")
        .order_by("-joined_at")[:200]
    ):
        group = membership.group
        if membership.user_id != group.manager_id and group.subscription.has_access(now):
            return membership.user
    return None


def removed_member() -> Any:
    """A reader whose seat was removed and who holds none now (nor any subscription)."""
    from masthead.subscriptions.entitlements import entitlement_for

    now = clock.now()
    live = Membership.objects.filter(removed_at__isnull=True).values("user_id")
    for membership in (
        Membership.objects.filter(removed_at__isnull=False, user__is_staff=False)
        .exclude(user_id__in=live)
        .select_related("user")
        .order_by("-removed_at")[:200]
    ):
        if not entitlement_for(membership.user_id, now=now).reads_everything:
            return membership.user
    return None


class AuditInstitution:
    """The institution the audit reads through, made for the run and removed by `close()`."""

    def __init__(self) -> None:
        tag = uuid.uuid4().hex[:10]
        now = clock.now()
        self.domain = f"inst-{tag}.audit.invalid"
        self.institution = Institution.objects.create(
            name=f"Paywall audit {tag}",
            slug=f"paywall-audit-{tag}",
            starts_at=now - timedelta(days=1),
            ends_at=now + timedelta(days=1),
        )
        InstitutionDomain.objects.create(institution=self.institution, domain=self.domain)
        InstitutionNetwork.objects.create(institution=self.institution, cidr=NETWORK)
        self.users: list[Any] = []

    def reader(self, role: str, *, verified: bool) -> Any:
        email = f"paywall-audit-{role}-{uuid.uuid4().hex[:8]}@{self.domain}"
        user = get_user_model().objects.create_user(username=email, email=email)
        user.set_unusable_password()
        user.save(update_fields=["password"])
        EmailAddress.objects.create(user=user, email=email, verified=verified, primary=True)
        self.users.append(user)
        return user

    def close(self) -> None:
        for user in self.users:
            user.delete()
        self.institution.delete()


def forwarding_believed(host: str) -> bool:
    """Whether the site believes X-Forwarded-For from the audit (its address is a trusted
    proxy): only then can the audit stand inside a network."""
    address = "127.0.0.1" if host in {"localhost", "127.0.0.1"} else host
    return clientip.is_trusted_proxy(address)


class SeatReadsKept:
    """A real member's monthly reads as they were before the audit read as them: the audit's
    reads must not show in their manager's usage column."""

    def __init__(self, user: Any) -> None:
        from masthead.groups.models import SeatReads

        self.user_id = user.pk
        self.before = dict(SeatReads.objects.filter(user_id=user.pk).values_list("pk", "reads"))

    def restore(self) -> None:
        from masthead.groups.models import SeatReads

        rows = SeatReads.objects.filter(user_id=self.user_id)
        rows.exclude(pk__in=list(self.before)).delete()
        for pk, reads in self.before.items():
            SeatReads.objects.filter(pk=pk).update(reads=reads)
