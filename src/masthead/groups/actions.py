"""Every change to a group or an institution: one action, one transaction, one history row.

Seats are enforced under races by locking the group's row before counting its members
(`lock_group`): two readers taking the last seat at once queue on the lock, and the second
counts the first. PostgreSQL row lock; SQLite serialises writers.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.urls import reverse

from masthead.core import links, mail
from masthead.groups import tokens
from masthead.groups.models import (
    Group,
    GroupEvent,
    Institution,
    InstitutionEvent,
    InstitutionReader,
    InstitutionReads,
    Invitation,
    Membership,
    SeatReads,
)
from masthead.subscriptions import actions as subscriptions

INVITATION_LIFETIME = timedelta(days=14)


class Refusal(enum.StrEnum):
    UNKNOWN = "unknown"
    EXPIRED = "expired"
    REVOKED = "revoked"
    USED = "used"
    FULL = "full"
    MEMBER = "already_member"
    ENDED = "ended"
    NOT_MANAGER = "not_manager"
    MANAGER_SEAT = "manager_seat"
    TOO_FEW = "too_few_seats"
    BAD_EMAIL = "bad_email"


MESSAGES = {
    Refusal.UNKNOWN: "This invitation link is not valid. Ask the group's manager for a new one.",
    Refusal.EXPIRED: "This invitation has expired. Ask the group's manager to invite you again.",
    Refusal.REVOKED: "This invitation was withdrawn by the group's manager.",
    Refusal.USED: "This invitation has already been accepted.",
    Refusal.FULL: "Every seat in this group is taken. Ask the group's manager for a seat.",
    Refusal.MEMBER: "You already hold a seat in a group.",
    Refusal.ENDED: "This group's subscription has ended.",
    Refusal.NOT_MANAGER: "Only the group's manager can do that.",
    Refusal.MANAGER_SEAT: "The manager's own seat cannot be removed.",
    Refusal.TOO_FEW: "A group cannot have fewer seats than members: remove members first.",
    Refusal.BAD_EMAIL: "Enter a valid e-mail address.",
}


class GroupRefused(Exception):
    def __init__(self, refusal: Refusal, message: str = "") -> None:
        self.refusal = refusal
        super().__init__(message or MESSAGES[refusal])


@dataclass(frozen=True)
class Invited:
    invitation: Invitation
    token: str


def lock_group(group: Group | int) -> Group:
    """The group's row, locked until the transaction ends (count members only after this)."""
    pk = group if isinstance(group, int) else group.pk
    return Group.objects.select_for_update().select_related("subscription").get(pk=pk)


def seats_used(group: Group) -> int:
    return Membership.objects.filter(group=group, removed_at__isnull=True).count()


def _event(group: Group, kind: str, *, at: datetime, **fields: Any) -> GroupEvent:
    return GroupEvent.objects.create(group=group, kind=kind, at=at, **fields)


def _refuse_unless_live(group: Group, now: datetime) -> None:
    if not group.subscription.has_access(now):
        raise GroupRefused(Refusal.ENDED)


def _refuse_unless_manager(group: Group, actor: Any) -> None:
    if actor is None or group.manager_id != actor.pk:
        raise GroupRefused(Refusal.NOT_MANAGER)


def ensure_group(subscription: Any, *, now: datetime, name: str = "") -> Group:
    """The group of a group subscription, made on first use with the manager holding the
    first seat (decision 0036). Idempotent (one group per subscription)."""
    existing = Group.objects.filter(subscription=subscription).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            group = Group.objects.create(
                subscription=subscription,
                manager_id=subscription.user_id,
                name=name.strip() or f"{subscription.user.get_full_name() or 'Group'} readers",
                created_at=now,
            )
            _event(
                group,
                GroupEvent.Kind.CREATED,
                at=now,
                actor_id=subscription.user_id,
                data={"seats": subscription.seats},
            )
            if not Membership.objects.filter(
                user_id=subscription.user_id, removed_at__isnull=True
            ).exists():
                Membership.objects.create(
                    group=group,
                    user_id=subscription.user_id,
                    via=Membership.Via.MANAGER,
                    joined_at=now,
                )
                _event(
                    group,
                    GroupEvent.Kind.JOINED,
                    at=now,
                    user_id=subscription.user_id,
                    data={"via": "manager"},
                )
            return group
    except IntegrityError:
        return Group.objects.get(subscription=subscription)


def buy_group(
    manager: Any,
    plan: Any,
    *,
    seats: int,
    card: Any,
    now: datetime,
    name: str = "",
    checkout_key: str | None = None,
    consent: Any = None,
) -> Group:
    """A manager buys `seats` seats of a group plan: the ordinary checkout (price x seats
    through the payments layer and the ledger), then the group."""
    subscription = subscriptions.subscribe(
        manager,
        plan=plan,
        card=card,
        now=now,
        seats=seats,
        checkout_key=checkout_key,
        consent=consent,
    )
    return ensure_group(subscription, now=now, name=name)


def invite(group: Group, email: str, *, actor: Any, now: datetime) -> Invited:
    """An e-mail invitation (signed, expiring), sent once the transaction commits."""
    from django.core.exceptions import ValidationError
    from django.core.validators import validate_email

    email = email.strip()
    try:
        validate_email(email)
    except ValidationError as exc:
        raise GroupRefused(Refusal.BAD_EMAIL) from exc
    token = tokens.new_token()
    with transaction.atomic(durable=True):
        locked = lock_group(group)
        _refuse_unless_manager(locked, actor)
        _refuse_unless_live(locked, now)
        if seats_used(locked) >= locked.subscription.seats:
            raise GroupRefused(Refusal.FULL, "Every seat is taken: add seats or remove a member.")
        invitation = Invitation.objects.create(
            group=locked,
            email=email,
            token_hash=tokens.digest(token),
            created_at=now,
            expires_at=now + INVITATION_LIFETIME,
        )
        _event(locked, GroupEvent.Kind.INVITED, at=now, actor=actor, email=email)
        url = links.absolute(reverse("groups:invitation", args=[token]))
        mail.queue_email(
            kind="group_invitation",
            subject=(
                f"{actor.get_full_name() or actor.email} invites you to read {settings.SITE_NAME}"
            ),
            body=(
                f"You have been given a seat in {locked.name} to read {settings.SITE_NAME} "
                f"in full.\n\nAccept the invitation (sign in or create an account first):\n"
                f"{url}\n\nThe invitation expires on {invitation.expires_at:%d %B %Y}."
            ),
            to=[email],
        )
    return Invited(invitation, token)


def revoke_invitation(invitation: Invitation, *, actor: Any, now: datetime) -> bool:
    with transaction.atomic(durable=True):
        group = lock_group(invitation.group_id)
        _refuse_unless_manager(group, actor)
        row = Invitation.objects.select_for_update().get(pk=invitation.pk)
        if row.accepted_at is not None or row.revoked_at is not None:
            return False
        row.revoked_at = now
        row.save(update_fields=["revoked_at"])
        _event(group, GroupEvent.Kind.INVITATION_REVOKED, at=now, actor=actor, email=row.email)
        return True


def invitation_for(token: str | None) -> Invitation | None:
    if not token or not tokens.well_formed(token):
        return None
    return (
        Invitation.objects.select_related("group").filter(token_hash=tokens.digest(token)).first()
    )


def _take_seat(group: Group, user: Any, via: str, *, now: datetime) -> Membership:
    """Inside the caller's transaction, with the group locked."""
    _refuse_unless_live(group, now)
    if Membership.objects.filter(user=user, removed_at__isnull=True).exists():
        raise GroupRefused(Refusal.MEMBER)
    if seats_used(group) >= group.subscription.seats:
        raise GroupRefused(Refusal.FULL)
    membership = Membership.objects.create(group=group, user=user, via=via, joined_at=now)
    _event(group, GroupEvent.Kind.JOINED, at=now, user=user, data={"via": via})
    return membership


def accept_invitation(token: str, user: Any, *, now: datetime) -> Membership:
    found = invitation_for(token)
    if found is None:
        raise GroupRefused(Refusal.UNKNOWN)
    try:
        with transaction.atomic(durable=True):
            group = lock_group(found.group_id)
            invitation = Invitation.objects.select_for_update().get(pk=found.pk)
            if invitation.revoked_at is not None:
                raise GroupRefused(Refusal.REVOKED)
            if invitation.accepted_at is not None:
                raise GroupRefused(Refusal.USED)
            if now >= invitation.expires_at:
                raise GroupRefused(Refusal.EXPIRED)
            membership = _take_seat(group, user, Membership.Via.INVITATION, now=now)
            invitation.accepted_at, invitation.accepted_by = now, user
            invitation.save(update_fields=["accepted_at", "accepted_by"])
            return membership
    except IntegrityError as exc:  # the reader took another seat at the same moment
        raise GroupRefused(Refusal.MEMBER) from exc


def make_join_link(group: Group, *, actor: Any, now: datetime) -> str:
    """A new shareable join link (the previous one stops working)."""
    token = tokens.new_token()
    with transaction.atomic(durable=True):
        locked = lock_group(group)
        _refuse_unless_manager(locked, actor)
        locked.join_token_hash = tokens.digest(token)
        locked.save(update_fields=["join_token_hash"])
        _event(locked, GroupEvent.Kind.LINK_MADE, at=now, actor=actor)
    return token


def revoke_join_link(group: Group, *, actor: Any, now: datetime) -> bool:
    with transaction.atomic(durable=True):
        locked = lock_group(group)
        _refuse_unless_manager(locked, actor)
        if not locked.join_token_hash:
            return False
        locked.join_token_hash = ""
        locked.save(update_fields=["join_token_hash"])
        _event(locked, GroupEvent.Kind.LINK_REVOKED, at=now, actor=actor)
        return True


def group_for_link(token: str | None) -> Group | None:
    if not token or not tokens.well_formed(token):
        return None
    return Group.objects.filter(join_token_hash=tokens.digest(token)).first()


def join_by_link(token: str, user: Any, *, now: datetime) -> Membership:
    found = group_for_link(token)
    if found is None:
        raise GroupRefused(Refusal.UNKNOWN, "This join link is not valid or was withdrawn.")
    try:
        with transaction.atomic(durable=True):
            group = lock_group(found)
            if group.join_token_hash != tokens.digest(token):  # revoked meanwhile
                raise GroupRefused(Refusal.UNKNOWN, "This join link is not valid or was withdrawn.")
            return _take_seat(group, user, Membership.Via.LINK, now=now)
    except IntegrityError as exc:
        raise GroupRefused(Refusal.MEMBER) from exc


def remove_member(membership: Membership, *, actor: Any, now: datetime) -> bool:
    """The member's access ends at once (their cached seat is retired on commit)."""
    with transaction.atomic(durable=True):
        group = lock_group(membership.group_id)
        _refuse_unless_manager(group, actor)
        row = Membership.objects.select_for_update().get(pk=membership.pk)
        if row.removed_at is not None:
            return False
        if row.user_id == group.manager_id:
            raise GroupRefused(Refusal.MANAGER_SEAT)
        row.removed_at = now
        row.save(update_fields=["removed_at"])
        _event(group, GroupEvent.Kind.REMOVED, at=now, actor=actor, user_id=row.user_id)
        return True


def change_seats(
    group: Group, seats: int, *, actor: Any, now: datetime, expected: Any = None
) -> Group:
    """A different seat count: a plan change through the subscription's own path (more seats
    charged now, pro rata; fewer at once, nothing refunded), never below the members."""
    _refuse_unless_manager(group, actor)
    if seats < seats_used(group):
        raise GroupRefused(Refusal.TOO_FEW)
    subscription = group.subscription
    before = subscription.seats
    changed = subscriptions.change_plan(
        subscription, subscription.plan, now=now, expected=expected, actor=actor, seats=seats
    )
    with transaction.atomic(durable=True):
        locked = lock_group(group)
        _event(
            locked,
            GroupEvent.Kind.SEATS_CHANGED,
            at=now,
            actor=actor,
            data={"from": before, "to": changed.seats},
        )
    return locked


def _month(now: datetime) -> Any:
    from django.utils import timezone

    return timezone.localtime(now).date().replace(day=1)


def record_seat_read(group_id: int, user_id: int, *, now: datetime) -> None:
    """One read in full on a seat (the manager's usage column): F(), never read-modify-save."""
    month = _month(now)
    updated = SeatReads.objects.filter(group_id=group_id, user_id=user_id, month=month).update(
        reads=F("reads") + 1
    )
    if not updated:
        try:
            with transaction.atomic():
                SeatReads.objects.create(group_id=group_id, user_id=user_id, month=month, reads=1)
        except IntegrityError:
            SeatReads.objects.filter(group_id=group_id, user_id=user_id, month=month).update(
                reads=F("reads") + 1
            )


def record_institution_read(
    institution_id: int, via: str, reader_key: str | None, *, now: datetime
) -> None:
    month = _month(now)
    rows = InstitutionReads.objects.filter(institution_id=institution_id, month=month, via=via)
    if not rows.update(reads=F("reads") + 1):
        try:
            with transaction.atomic():
                InstitutionReads.objects.create(
                    institution_id=institution_id, month=month, via=via, reads=1
                )
        except IntegrityError:
            rows.update(reads=F("reads") + 1)
    if reader_key:
        try:
            with transaction.atomic():
                InstitutionReader.objects.get_or_create(
                    institution_id=institution_id, month=month, via=via, reader_key=reader_key
                )
        except IntegrityError:
            pass


def record_institution_change(
    institution: Institution, kind: str, *, actor: Any, now: datetime, data: dict[str, Any]
) -> InstitutionEvent:
    """The history row of a staff change (the admin saves the rows in the same transaction)."""
    return InstitutionEvent.objects.create(
        institution=institution, kind=kind, actor=actor, at=now, data=data
    )
