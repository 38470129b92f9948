"""Group actions: buying seats (price x seats through the payments layer and the ledger),
invitations (expired, revoked, reused, for a full group), join links, removal, seat changes;
each with its history row and the side effects that must and must not happen."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.test import Client

from masthead.billing.models import EntryKind, LedgerEntry, Payment
from masthead.core import clock
from masthead.core.models import OutboxEmail
from masthead.groups import actions
from masthead.groups.actions import GroupRefused, Refusal
from masthead.groups.models import GroupEvent, Invitation, Membership
from masthead.subscriptions.models import EventKind, SubscriptionEvent
from tests import factories
from tests.groups import support

pytestmark = pytest.mark.django_db


@pytest.fixture
def now():
    return clock.now()


def test_buying_seats_charges_price_times_seats_through_the_ledger(now):
    grp = support.group(now, seats=5)
    sub = grp.subscription
    assert (sub.seats, sub.plan.group) == (5, True)
    charge = LedgerEntry.objects.get(subscription=sub, kind=EntryKind.CHARGE)
    assert (charge.amount_minor, charge.period_number) == (5000, 1)
    payment = Payment.objects.get(user=grp.manager)
    assert (payment.amount_minor, payment.context["seats"], payment.status) == (
        5000,
        5,
        "succeeded",
    )
    assert charge.description == "Team subscription, 5 seats"
    # The manager holds the first seat; one history row each for the group and the seat.
    assert list(grp.memberships.values_list("user_id", "via")) == [(grp.manager_id, "manager")]
    assert list(GroupEvent.objects.filter(group=grp).values_list("kind", flat=True)) == [
        "created",
        "joined",
    ]


def test_a_renewal_charges_every_seat(now):
    from masthead.subscriptions import actions as subscriptions

    grp = support.group(now, seats=3)
    sub = grp.subscription
    assert subscriptions.renew(sub, now=sub.current_period_end)
    charges = LedgerEntry.objects.filter(subscription=sub, kind=EntryKind.CHARGE)
    assert sorted(charges.values_list("amount_minor", flat=True)) == [3000, 3000]


@pytest.mark.parametrize("seats", [0, 1, 51])
def test_seats_out_of_range_are_refused_before_any_money_moves(now, seats):
    from masthead.subscriptions.actions import SubscriptionError

    manager = factories.user()
    with pytest.raises(SubscriptionError, match="between 2 and 50 seats"):
        actions.buy_group(
            manager,
            support.group_plan(),
            seats=seats,
            card=support.card(manager, "4242424242424242", now),
            now=now,
        )
    assert not Payment.objects.exists()


def test_an_invitation_is_mailed_on_commit_and_takes_a_seat_once(
    now, django_capture_on_commit_callbacks
):
    grp = support.group(now, seats=3)
    reader = factories.user("lena@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        invited = actions.invite(grp, "lena@example.com", actor=grp.manager, now=now)
    outbox = OutboxEmail.objects.get(kind="group_invitation")
    assert outbox.to == ["lena@example.com"]
    assert f"/groups/invitations/{invited.token}/" in outbox.body
    assert invited.token not in Invitation.objects.get().token_hash  # only a digest is kept
    membership = actions.accept_invitation(invited.token, reader, now=now)
    assert (membership.via, membership.group_id) == ("invitation", grp.pk)
    with pytest.raises(GroupRefused) as reused:
        actions.accept_invitation(invited.token, factories.user(), now=now)
    assert reused.value.refusal is Refusal.USED
    assert grp.memberships.filter(removed_at__isnull=True).count() == 2


def test_an_expired_invitation_is_refused(now):
    grp = support.group(now, seats=3)
    token = actions.invite(grp, "a@example.com", actor=grp.manager, now=now).token
    later = now + actions.INVITATION_LIFETIME
    with pytest.raises(GroupRefused) as refused:
        actions.accept_invitation(token, factories.user(), now=later)
    assert refused.value.refusal is Refusal.EXPIRED
    assert not Membership.objects.filter(via="invitation").exists()


def test_a_revoked_invitation_is_refused(now):
    grp = support.group(now, seats=3)
    invited = actions.invite(grp, "a@example.com", actor=grp.manager, now=now)
    assert actions.revoke_invitation(invited.invitation, actor=grp.manager, now=now)
    assert not actions.revoke_invitation(invited.invitation, actor=grp.manager, now=now)
    with pytest.raises(GroupRefused) as refused:
        actions.accept_invitation(invited.token, factories.user(), now=now)
    assert refused.value.refusal is Refusal.REVOKED
    assert GroupEvent.objects.filter(kind="invitation_revoked").count() == 1


def test_an_invitation_to_a_full_group_is_refused_on_acceptance(now):
    grp = support.group(now, seats=2)
    first = actions.invite(grp, "a@example.com", actor=grp.manager, now=now).token
    second = actions.invite(grp, "b@example.com", actor=grp.manager, now=now).token
    actions.accept_invitation(first, factories.user(), now=now)
    with pytest.raises(GroupRefused) as refused:
        actions.accept_invitation(second, factories.user(), now=now)
    assert refused.value.refusal is Refusal.FULL
    with pytest.raises(GroupRefused) as more:
        actions.invite(grp, "c@example.com", actor=grp.manager, now=now)
    assert more.value.refusal is Refusal.FULL


@pytest.mark.parametrize("token", ["", "nonsense", "x" * 500, "abc.def"])
def test_a_token_that_is_not_ours_is_unknown(now, token):
    with pytest.raises(GroupRefused) as refused:
        actions.accept_invitation(token, factories.user(), now=now)
    assert refused.value.refusal is Refusal.UNKNOWN


def test_only_the_manager_invites_removes_and_makes_links(now):
    grp = support.group(now, seats=3)
    member = support.member(grp, now)
    for call in (
        lambda: actions.invite(grp, "x@example.com", actor=member, now=now),
        lambda: actions.make_join_link(grp, actor=member, now=now),
        lambda: actions.remove_member(grp.memberships.get(user=grp.manager), actor=member, now=now),
    ):
        with pytest.raises(GroupRefused) as refused:
            call()
        assert refused.value.refusal is Refusal.NOT_MANAGER


def test_a_reader_holds_one_seat_at_a_time(now):
    one, two = support.group(now, seats=3), support.group(now, seats=3)
    reader = support.member(one, now)
    token = actions.invite(two, reader.email, actor=two.manager, now=now).token
    with pytest.raises(GroupRefused) as refused:
        actions.accept_invitation(token, reader, now=now)
    assert refused.value.refusal is Refusal.MEMBER


def test_a_join_link_works_until_revoked_and_a_new_one_replaces_it(now):
    grp = support.group(now, seats=4)
    old = actions.make_join_link(grp, actor=grp.manager, now=now)
    new = actions.make_join_link(grp, actor=grp.manager, now=now)
    with pytest.raises(GroupRefused):
        actions.join_by_link(old, factories.user(), now=now)
    assert actions.join_by_link(new, factories.user(), now=now).via == "link"
    assert actions.revoke_join_link(grp, actor=grp.manager, now=now)
    with pytest.raises(GroupRefused) as refused:
        actions.join_by_link(new, factories.user(), now=now)
    assert refused.value.refusal is Refusal.UNKNOWN


def test_removing_a_member_ends_the_seat_with_a_history_row(now):
    grp = support.group(now, seats=3)
    member = support.member(grp, now)
    membership = grp.memberships.get(user=member)
    assert actions.remove_member(membership, actor=grp.manager, now=now)
    assert not actions.remove_member(membership, actor=grp.manager, now=now)
    event = GroupEvent.objects.get(kind="removed")
    assert (event.user_id, event.actor_id) == (member.pk, grp.manager_id)
    with pytest.raises(GroupRefused) as refused:
        actions.remove_member(grp.memberships.get(user=grp.manager), actor=grp.manager, now=now)
    assert refused.value.refusal is Refusal.MANAGER_SEAT


def test_more_seats_is_a_plan_change_charged_pro_rata(now):
    grp = support.group(now, seats=2)
    later = now + timedelta(days=15)
    actions.change_seats(grp, 4, actor=grp.manager, now=later)
    grp.subscription.refresh_from_db()
    assert grp.subscription.seats == 4
    change = Payment.objects.get(purpose="change_plan")
    credit = change.context["credit"]
    assert credit > 0 and change.amount_minor == 4000 - credit
    assert change.context["seats"] == 4
    event = SubscriptionEvent.objects.filter(kind=EventKind.PLAN_CHANGED).last()
    assert event.data["seats"] == 4
    assert GroupEvent.objects.get(kind="seats_changed").data == {"from": 2, "to": 4}


def test_fewer_seats_apply_at_once_with_nothing_charged_never_below_the_members(now):
    grp = support.group(now, seats=4)
    support.member(grp, now)
    support.member(grp, now)
    with pytest.raises(GroupRefused) as refused:
        actions.change_seats(grp, 2, actor=grp.manager, now=now)
    assert refused.value.refusal is Refusal.TOO_FEW
    actions.change_seats(grp, 3, actor=grp.manager, now=now)
    grp.subscription.refresh_from_db()
    assert grp.subscription.seats == 3
    assert not Payment.objects.filter(purpose="change_plan").exists()
    from masthead.subscriptions import actions as subscriptions

    assert subscriptions.renew(grp.subscription, now=grp.subscription.current_period_end)
    renewal = LedgerEntry.objects.filter(subscription=grp.subscription).order_by("at").last()
    assert renewal.amount_minor == 3000


def test_the_manager_page_shows_members_pending_invitations_seats_and_reads(now):
    grp = support.group(now, seats=3)
    member = support.member(grp, now)
    actions.invite(grp, "pending@example.com", actor=grp.manager, now=now)
    actions.record_seat_read(grp.pk, member.pk, now=now)
    actions.record_seat_read(grp.pk, member.pk, now=now)
    client = Client()
    client.force_login(grp.manager)
    page = client.get("/account/group/").content.decode()
    assert "2 of 3 seats used" in page and "1 left" in page
    assert member.email in page and "pending@example.com" in page
    assert f"<td>{member.email}</td>" in page.replace("\n", "")
    # Reads this month: the member's two.
    row = page.split(member.email, 1)[1].split("</tr>", 1)[0]
    assert "<td>2</td>" in row


def test_someone_elses_manager_page_actions_are_not_found(now):
    grp = support.group(now, seats=3)
    member = support.member(grp, now)
    client = Client()
    client.force_login(member)
    response = client.post(f"/account/group/members/{grp.memberships.first().pk}/remove/")
    assert response.status_code == 404
    assert grp.memberships.filter(removed_at__isnull=True).count() == 2
    assert not mail.outbox
