"""Groups (a group plan's seats, members, invitations) and institutions (domains, networks),
with their append-only history and monthly usage counters."""

from __future__ import annotations

import ipaddress
from datetime import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from masthead.core.history import AppendOnlyModel


class Group(models.Model):
    """The readers one group subscription pays for. Seats are the subscription's."""

    subscription = models.OneToOneField(
        "subscriptions.Subscription", on_delete=models.PROTECT, related_name="reader_group"
    )
    manager = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="managed_groups"
    )
    name = models.CharField(max_length=120)
    # The shareable join link: a digest of its token; empty when there is none (revoked).
    join_token_hash = models.CharField(max_length=64, blank=True, db_index=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    class Via(models.TextChoices):
        MANAGER = "manager", _("the manager")
        INVITATION = "invitation", _("an e-mail invitation")
        LINK = "link", _("the join link")

    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="group_memberships"
    )
    via = models.CharField(max_length=12, choices=Via.choices)
    joined_at = models.DateTimeField()
    removed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["joined_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["user"],
                condition=Q(removed_at__isnull=True),
                name="one_live_seat_per_reader",
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.group}"


class Invitation(models.Model):
    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField()
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"Invitation of {self.email} to {self.group}"

    def pending_at(self, now: datetime) -> bool:
        return self.accepted_at is None and self.revoked_at is None and now < self.expires_at


class GroupEvent(AppendOnlyModel):
    class Kind(models.TextChoices):
        CREATED = "created", _("group created")
        INVITED = "invited", _("invitation sent")
        INVITATION_REVOKED = "invitation_revoked", _("invitation revoked")
        JOINED = "joined", _("member joined")
        REMOVED = "removed", _("member removed")
        LINK_MADE = "link_made", _("join link made")
        LINK_REVOKED = "link_revoked", _("join link revoked")
        SEATS_CHANGED = "seats_changed", _("seats changed")

    group = models.ForeignKey(Group, on_delete=models.PROTECT, related_name="events")
    kind = models.CharField(max_length=24, choices=Kind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    email = models.EmailField(blank=True)
    at = models.DateTimeField()
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.kind} {self.group_id}"


class SeatReads(models.Model):
    """Reads a member made on their seat in a month (the manager's usage column). F() only."""

    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="reads")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    month = models.DateField()
    reads = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["group", "user", "month"], name="seat_reads_once")
        ]

    def __str__(self) -> str:
        return f"{self.user_id} in {self.group_id}: {self.reads} in {self.month:%Y-%m}"


def validate_domain(value: str) -> None:
    value = value.strip().lower()
    labels = value.split(".")
    if (
        len(labels) < 2
        or len(value) > 253
        or any(not label or len(label) > 63 for label in labels)
        or any(not all(c.isalnum() or c == "-" for c in label) for label in labels)
        or any(label.startswith("-") or label.endswith("-") for label in labels)
        or not value.isascii()
    ):
        raise ValidationError(
            _("Enter a domain such as university.example (no @, no spaces, no wildcard).")
        )


def validate_network(value: str) -> None:
    try:
        network = ipaddress.ip_network(value.strip(), strict=True)
    except ValueError as exc:
        raise ValidationError(
            _("Enter a network in CIDR form, e.g. 192.0.2.0/24 or 2001:db8::/32 (%(why)s).")
            % {"why": exc}
        ) from exc
    if network.prefixlen == 0:
        raise ValidationError(_("A network covering every address is not an institution."))


class Institution(models.Model):
    """A library, university or company whose people read in full: by verified e-mail domain
    and by network, during its active period. Staff manage it in the admin."""

    name = models.CharField(max_length=120)
    slug = models.SlugField(
        max_length=60, unique=True, help_text=_("Its page: /institutions/<slug>/")
    )
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField(null=True, blank=True, help_text=_("Empty: no end set."))
    contact = models.CharField(
        max_length=200, blank=True, help_text=_("Who readers ask for access (shown on its page).")
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if self.ends_at and self.starts_at and self.ends_at <= self.starts_at:
            raise ValidationError({"ends_at": _("The access must end after it starts.")})

    def active_at(self, now: datetime) -> bool:
        return self.starts_at <= now and (self.ends_at is None or now < self.ends_at)


class InstitutionDomain(models.Model):
    institution = models.ForeignKey(Institution, on_delete=models.CASCADE, related_name="domains")
    domain = models.CharField(max_length=253, unique=True, validators=[validate_domain])

    class Meta:
        ordering = ["domain"]

    def __str__(self) -> str:
        return self.domain

    def clean(self) -> None:
        self.domain = self.domain.strip().lower()


class InstitutionNetwork(models.Model):
    institution = models.ForeignKey(Institution, on_delete=models.CASCADE, related_name="networks")
    cidr = models.CharField(
        max_length=49, validators=[validate_network], help_text=_("IPv4 or IPv6, CIDR form.")
    )

    class Meta:
        ordering = ["cidr"]

    def __str__(self) -> str:
        return self.cidr

    def clean(self) -> None:
        self.cidr = self.cidr.strip()


class InstitutionEvent(AppendOnlyModel):
    """What staff changed about an institution (the admin saves through `actions`)."""

    institution = models.ForeignKey(Institution, on_delete=models.PROTECT, related_name="events")
    kind = models.CharField(max_length=24)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    at = models.DateTimeField()
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.kind} {self.institution_id}"


class Via(models.TextChoices):
    DOMAIN = "domain", _("verified e-mail domain")
    NETWORK = "network", _("network (IP range)")


class InstitutionReads(models.Model):
    """Reads in full an institution gave in a month, by how the reader was covered. F() only."""

    institution = models.ForeignKey(Institution, on_delete=models.CASCADE, related_name="reads")
    month = models.DateField()
    via = models.CharField(max_length=8, choices=Via.choices)
    reads = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["institution", "month", "via"], name="inst_reads_once")
        ]

    def __str__(self) -> str:
        return f"{self.institution_id} {self.via}: {self.reads} in {self.month:%Y-%m}"


class InstitutionReader(models.Model):
    """A distinct reader (account or reader cookie) an institution covered in a month."""

    institution = models.ForeignKey(Institution, on_delete=models.CASCADE, related_name="+")
    month = models.DateField()
    via = models.CharField(max_length=8, choices=Via.choices)
    reader_key = models.CharField(max_length=40)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["institution", "month", "via", "reader_key"], name="inst_reader_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.reader_key} via {self.via} in {self.month:%Y-%m}"
