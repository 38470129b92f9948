"""The manager's page, invitations, join links and institution pages. Rules live in
`actions` and `passes`; these views ask and show."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Sum
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from masthead.core import cdn, clientip, clock
from masthead.groups import actions, passes
from masthead.groups.models import Group, Institution, Invitation, Membership, SeatReads
from masthead.subscriptions.actions import live_subscription


def _managed_group(user: Any) -> Group | None:
    """The group this reader manages (made on first visit after buying a group plan)."""
    now = clock.now()
    sub = live_subscription(user.pk)
    if sub is not None and sub.plan.group:
        return actions.ensure_group(sub, now=now)
    return Group.objects.filter(manager=user).select_related("subscription__plan").last()


def _refused(
    request: HttpRequest, refused: actions.GroupRefused, status: int = 409
) -> HttpResponse:
    return TemplateResponse(
        request,
        "groups/refused.html",
        {"message": str(refused), "code": refused.refusal},
        status=status,
    )


@never_cache
@login_required
def manage(request: HttpRequest) -> HttpResponse:
    group = _managed_group(request.user)
    if group is None:
        return TemplateResponse(request, "groups/manage.html", {"group": None})
    now = clock.now()
    month = actions._month(now)
    reads = dict(
        SeatReads.objects.filter(group=group, month=month)
        .values_list("user_id")
        .annotate(total=Sum("reads"))
    )
    members = [
        {"membership": m, "reads": reads.get(m.user_id, 0)}
        for m in group.memberships.filter(removed_at__isnull=True).select_related("user")
    ]
    pending = [i for i in group.invitations.all() if i.pending_at(now)]
    seats = group.subscription.seats
    context = {
        "group": group,
        "members": members,
        "pending": pending,
        "seats": seats,
        "used": len(members),
        "left": max(seats - len(members), 0),
        "live": group.subscription.has_access(now),
        "join_url": request.session.pop("group_join_url", ""),
        "has_link": bool(group.join_token_hash),
        "month": month,
    }
    return TemplateResponse(request, "groups/manage.html", context)


def _mine(request: HttpRequest) -> Group:
    group = _managed_group(request.user)
    if group is None or group.manager_id != request.user.pk:
        from django.http import Http404

        raise Http404("No group")
    return group


@require_POST
@login_required
def invite(request: HttpRequest) -> HttpResponse:
    group = _mine(request)
    email = request.POST.get("email", "")
    try:
        actions.invite(group, email, actor=request.user, now=clock.now())
    except actions.GroupRefused as refused:
        messages.error(request, str(refused))
    else:
        messages.success(request, f"Invitation sent to {email.strip()}.")
    return redirect("groups:manage")


@require_POST
@login_required
def remove(request: HttpRequest, membership_id: int) -> HttpResponse:
    group = _mine(request)
    membership = get_object_or_404(Membership, pk=membership_id, group=group)
    try:
        actions.remove_member(membership, actor=request.user, now=clock.now())
    except actions.GroupRefused as refused:
        messages.error(request, str(refused))
    else:
        messages.success(request, f"{membership.user.email} no longer holds a seat.")
    return redirect("groups:manage")


@require_POST
@login_required
def revoke_invitation(request: HttpRequest, invitation_id: int) -> HttpResponse:
    group = _mine(request)
    invitation = get_object_or_404(Invitation, pk=invitation_id, group=group)
    actions.revoke_invitation(invitation, actor=request.user, now=clock.now())
    messages.success(request, f"The invitation to {invitation.email} was withdrawn.")
    return redirect("groups:manage")


@require_POST
@login_required
def join_link(request: HttpRequest) -> HttpResponse:
    group = _mine(request)
    if request.POST.get("action") == "revoke":
        actions.revoke_join_link(group, actor=request.user, now=clock.now())
        messages.success(request, "The join link no longer works.")
    else:
        token = actions.make_join_link(group, actor=request.user, now=clock.now())
        request.session["group_join_url"] = request.build_absolute_uri(
            reverse("groups:join", args=[token])
        )
        messages.success(request, "A new join link is ready; any earlier link stopped working.")
    return redirect("groups:manage")


@require_POST
@login_required
def seats(request: HttpRequest) -> HttpResponse:
    group = _mine(request)
    raw = request.POST.get("seats", "")
    if not raw.isdigit() or len(raw) > 4:
        messages.error(request, "Enter a number of seats.")
        return redirect("groups:manage")
    from masthead.billing.providers import PaymentError
    from masthead.subscriptions.actions import SubscriptionError

    try:
        actions.change_seats(group, int(raw), actor=request.user, now=clock.now())
    except (actions.GroupRefused, SubscriptionError, PaymentError) as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"Your group now has {int(raw)} seats.")
    return redirect("groups:manage")


def _joining(request: HttpRequest, token: str, *, link: bool) -> HttpResponse:
    now = clock.now()
    if link:
        group = actions.group_for_link(token)
        invitation = None
        if group is None:
            return _refused(
                request,
                actions.GroupRefused(
                    actions.Refusal.UNKNOWN, "This join link is not valid or was withdrawn."
                ),
                404,
            )
    else:
        invitation = actions.invitation_for(token)
        if invitation is None:
            return _refused(request, actions.GroupRefused(actions.Refusal.UNKNOWN), 404)
        group = invitation.group
    if request.method == "POST" and request.user.is_authenticated:
        try:
            if link:
                actions.join_by_link(token, request.user, now=now)
            else:
                actions.accept_invitation(token, request.user, now=now)
        except actions.GroupRefused as refused:
            return _refused(
                request,
                refused,
                410
                if refused.refusal
                in (actions.Refusal.EXPIRED, actions.Refusal.REVOKED, actions.Refusal.USED)
                else 409,
            )
        messages.success(request, f"Welcome to {group.name}: you can now read everything.")
        return redirect(request.path)
    state = ""
    if (
        request.user.is_authenticated
        and Membership.objects.filter(
            group=group, user=request.user, removed_at__isnull=True
        ).exists()
    ):
        state = "member"
    if invitation is not None:
        if invitation.revoked_at:
            state = "revoked"
        elif invitation.accepted_at:
            state = "used"
        elif now >= invitation.expires_at:
            state = "expired"
    return TemplateResponse(
        request,
        "groups/join.html",
        {
            "group": group,
            "invitation": invitation,
            "state": state,
            "link": link,
            "login_url": f"{reverse('account_login')}?next={request.path}",
            "signup_url": f"{reverse('account_signup')}?next={request.path}",
        },
        status=410 if state not in ("", "member") else 200,
    )


@never_cache
def accept(request: HttpRequest, token: str) -> HttpResponse:
    return _joining(request, token, link=False)


@never_cache
def join(request: HttpRequest, token: str) -> HttpResponse:
    return _joining(request, token, link=True)


def institution(request: HttpRequest, slug: str) -> HttpResponse:
    """Whether this visitor is covered, and how to get access (private: it is theirs)."""
    found = get_object_or_404(Institution, slug=slug)
    now = clock.now()
    coverage = passes.coverage_of(request)
    mine = [c for c in coverage.institutions if c.institution_id == found.pk]
    by_domain = any(c.via == "domain" for c in mine)
    by_network = any(c.via == "network" for c in mine)
    response = TemplateResponse(
        request,
        "groups/institution.html",
        {
            "institution": found,
            "active": found.active_at(now),
            "by_domain": by_domain,
            "by_network": by_network,
            "domains": [d.domain for d in found.domains.all()],
            "address_known": clientip.client_ip(request) != "unknown",
        },
    )
    return cdn.mark_private(response)
