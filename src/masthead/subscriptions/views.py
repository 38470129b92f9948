"""Reader pages: the offers page and the reader's own subscription, invoices and card.

Account endpoints take no subscription id: each acts on the signed-in reader's own
subscription, so nobody can reach another reader's. Receipts are looked up within the
reader's own ledger rows (another reader's id is a 404).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from masthead.billing.forms import CardCheckoutForm
from masthead.billing.models import EntryKind, LedgerEntry, PaymentMethod
from masthead.billing.providers import PaymentError, get_provider
from masthead.core import clock, events
from masthead.subscriptions import actions, retention
from masthead.subscriptions import consent as consents
from masthead.subscriptions.entitlements import entitlement_for
from masthead.subscriptions.models import Offer, Plan, Status, Subscription
from masthead.subscriptions.offers import live_offers_for, view_of_offer


def offers(request: HttpRequest) -> HttpResponse:
    now = clock.now()
    user_id = request.user.pk if request.user.is_authenticated else None
    plans = [plan for plan in Plan.objects.all() if plan.is_live(now)]
    shown = [o for o in live_offers_for(user_id, now=now) if o.kind != "plan"]
    reader = getattr(request, "reader", None)
    for offer in shown:
        events.record(events.OFFER_VIEWED, reader and reader.meter_key, code=offer.code)
    return render(
        request,
        "subscriptions/offers.html",
        {
            "offers": shown,
            "plans": plans,
            "benefits": plans[0].benefit_list if plans else [],
            "entitlement": entitlement_for(user_id, now=now),
        },
    )


def _reader_id(request: HttpRequest) -> int:
    """The signed-in reader's id (every caller is behind login_required)."""
    assert request.user.pk is not None
    return int(request.user.pk)


def _latest(user_id: int) -> Subscription | None:
    return (
        Subscription.objects.filter(user_id=user_id)
        .select_related("plan", "next_plan", "offer")
        .first()
    )


@login_required
def account(request: HttpRequest, card_form: Any = None, status: int = 200) -> HttpResponse:
    now = clock.now()
    sub = _latest(_reader_id(request))
    receipts = (
        LedgerEntry.objects.filter(user_id=_reader_id(request), kind=EntryKind.CHARGE)
        .order_by("-at", "-pk")
        .prefetch_related("adjustments")
    )
    can_change = sub is not None and sub.status in (Status.ACTIVE, Status.TRIALING)
    cancellable = sub is not None and sub.status in CANCELLABLE
    other_plans = (
        [p for p in Plan.objects.all() if p.is_live(now) and p.pk != sub.plan_id]
        if can_change and sub is not None
        else []
    )
    return render(
        request,
        "subscriptions/account.html",
        {
            "subscription": sub,
            "entitlement": entitlement_for(_reader_id(request), now=now),
            "card": PaymentMethod.current_for(_reader_id(request)),
            "receipts": receipts,
            "other_plans": other_plans,
            "can_cancel": cancellable,
            "reasons": retention.REASONS,
            "asks_first": cancellable and sub is not None and retention.might_offer(sub, now=now),
            "access_ends": _access_ends(sub, now) if cancellable and sub is not None else None,
            "open_cancel": request.GET.get("cancel") == "1",
            "can_pause": sub is not None and retention.pause_refusal(sub) is None,
            "pause_months": retention.pause_months(),
            "winback": _winback(_reader_id(request), sub, now=now),
            "can_resume": sub is not None
            and sub.status == Status.CANCELLED
            and sub.current_period_end > now,
            "stripe_portal": sub is not None
            and sub.provider == "stripe"
            and bool(sub.provider_ref),
            "card_form": card_form
            if card_form is not None
            else (CardCheckoutForm(now=now) if get_provider().collects_cards_on_site else None),
        },
        status=status,
    )


CANCELLABLE = (Status.ACTIVE, Status.TRIALING, Status.PAST_DUE, Status.PAUSED)


def _winback(user_id: int, sub: Subscription | None, *, now: Any) -> Any:
    """The win-back offer for a lapsed subscriber (decision 0035), when it is open to them."""
    if sub is None or sub.status != Status.EXPIRED or sub.paid_periods == 0:
        return None
    offer = Offer.objects.select_related("plan").filter(code=settings.WINBACK_OFFER).first()
    if offer is None or actions.offer_refusal(user_id, offer, now=now) is not None:
        return None
    return view_of_offer(offer)


def _own_live(request: HttpRequest) -> Subscription | None:
    sub = actions.live_subscription(_reader_id(request))
    if sub is None:
        messages.error(request, "You have no subscription to change.")
    return sub


def _access_ends(sub: Subscription, now: Any) -> Any:
    """When access ends if the reader cancels now (None: at once)."""
    if sub.status in (Status.PAST_DUE, Status.COMPLIMENTARY):
        return None
    if sub.status == Status.PAUSED:
        return actions.retention_unpause_fields(sub, now=now).get(
            "current_period_end", sub.current_period_end
        )
    return sub.current_period_end


def _cancellable(request: HttpRequest) -> Subscription | None:
    sub = actions.live_subscription(_reader_id(request))
    if sub is None or sub.status not in CANCELLABLE:
        messages.error(request, "You have no renewing subscription to cancel.")
        return None
    return sub


@login_required
def cancel(request: HttpRequest) -> HttpResponse:
    """The cancellation flow (docs/retention.md). GET: page 1, the optional reason; when no
    save offer could apply, it is also the confirm. POST: cancel (the confirm's button),
    recording the declined save offer or the reason given on the same page."""
    now = clock.now()
    if request.method == "POST":
        return _cancel_now(request, now)
    sub = _cancellable(request)
    if sub is None:
        return redirect("subscriptions:account")
    return render(
        request,
        "subscriptions/cancel_start.html",
        {
            "subscription": sub,
            "reasons": retention.REASONS,
            "asks_first": retention.might_offer(sub, now=now),
            "access_ends": _access_ends(sub, now),
        },
    )


def _cancel_now(request: HttpRequest, now: Any) -> HttpResponse:
    sub = _own_live(request)
    if sub is not None:
        try:
            reason = request.POST.get("reason", "")
            if reason:  # the reason given on a first page that was also the confirm
                actions.start_cancellation(
                    sub,
                    reason=reason,
                    detail=request.POST.get("detail", ""),
                    now=now,
                    actor=request.user,
                )
            declined = request.POST.get("declined_offer", "")
            sub = actions.cancel(
                sub,
                now=now,
                actor=request.user,
                reason="By the reader",
                declined_offer=declined if declined in retention.OFFERS else "",
            )
        except actions.SubscriptionError as exc:
            messages.error(request, str(exc))
        else:
            if sub.status == Status.EXPIRED:
                messages.success(request, "Your subscription has ended.")
            else:
                messages.success(
                    request,
                    f"Your subscription is cancelled. You keep full access until "
                    f"{sub.current_period_end:%B %-d, %Y}.",
                )
    return redirect("subscriptions:account")


@login_required
@require_POST
def cancel_reason(request: HttpRequest) -> HttpResponse:
    """Page 1's "Continue": the reason (or none) and the save offer chosen for it."""
    sub = _cancellable(request)
    if sub is None:
        return redirect("subscriptions:account")
    try:
        actions.start_cancellation(
            sub,
            reason=request.POST.get("reason", ""),
            detail=request.POST.get("detail", ""),
            now=clock.now(),
            actor=request.user,
        )
    except actions.SubscriptionError as exc:
        messages.error(request, str(exc))
        return redirect("subscriptions:account")
    return redirect("subscriptions:cancel_confirm")


@login_required
def cancel_confirm(request: HttpRequest) -> HttpResponse:
    """Page 2: the save offer (if one was chosen) beside the clear confirm, always here."""
    now = clock.now()
    sub = _cancellable(request)
    if sub is None:
        return redirect("subscriptions:account")
    _, offer = actions.flow_offer(sub, now=now)
    return render(
        request,
        "subscriptions/cancel_confirm.html",
        {"subscription": sub, "offer": offer, "access_ends": _access_ends(sub, now)},
    )


@login_required
@require_POST
def accept_offer(request: HttpRequest) -> HttpResponse:
    sub = _cancellable(request)
    if sub is None:
        return redirect("subscriptions:account")
    kind = request.POST.get("offer", "")
    try:
        months = int(request.POST.get("months", "0") or 0)
    except ValueError:
        months = 0
    try:
        sub = actions.accept_save_offer(
            sub, kind, now=clock.now(), actor=request.user, months=months
        )
    except (PaymentError, actions.SubscriptionError) as exc:
        messages.error(request, str(exc))
        return redirect("subscriptions:cancel_confirm")
    if sub.status == Status.PAUSED:
        messages.success(
            request, f"Your subscription is paused until {sub.paused_until:%B %-d, %Y}."
        )
    else:
        messages.success(request, "Thank you for staying. Your subscription continues.")
    return redirect("subscriptions:account")


@login_required
@require_POST
def pause(request: HttpRequest) -> HttpResponse:
    sub = _own_live(request)
    if sub is not None:
        try:
            months = int(request.POST.get("months", ""))
        except ValueError:
            messages.error(request, "Choose how many months to pause for.")
            return redirect("subscriptions:account")
        try:
            sub = actions.pause(sub, months, now=clock.now(), actor=request.user)
        except (PaymentError, actions.SubscriptionError) as exc:
            messages.error(request, str(exc))
        else:
            messages.success(
                request,
                f"Your subscription is paused until {sub.paused_until:%B %-d, %Y}. Nothing is "
                f"charged meanwhile; your next renewal is {sub.current_period_end:%B %-d, %Y}.",
            )
    return redirect("subscriptions:account")


@login_required
@require_POST
def unpause(request: HttpRequest) -> HttpResponse:
    sub = _own_live(request)
    if sub is not None:
        try:
            sub = actions.unpause(sub, now=clock.now(), actor=request.user)
        except (PaymentError, actions.SubscriptionError) as exc:
            messages.error(request, str(exc))
        else:
            messages.success(
                request,
                f"Welcome back: your subscription is active again. Your next renewal is "
                f"{sub.current_period_end:%B %-d, %Y}.",
            )
    return redirect("subscriptions:account")


@login_required
@require_POST
def resume(request: HttpRequest) -> HttpResponse:
    sub = _own_live(request)
    if sub is not None:
        try:
            actions.resume(sub, now=clock.now(), actor=request.user)
        except actions.SubscriptionError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, "Your subscription will renew as before.")
    return redirect("subscriptions:account")


@login_required
def change_plan(request: HttpRequest, slug: str) -> HttpResponse:
    """GET: the exact charge or credit and when it applies. POST: confirm that preview."""
    now = clock.now()
    plan = Plan.objects.filter(slug=slug).first()
    sub = actions.live_subscription(_reader_id(request))
    if plan is None or sub is None:
        raise Http404("No such plan change")
    try:
        preview = actions.preview_plan_change(sub, plan, now=now)
    except actions.SubscriptionError as exc:
        messages.error(request, str(exc))
        return redirect("subscriptions:account")
    notice = consent_error = ""
    if request.method == "POST":
        shown = consents.change_terms_text(plan, preview)
        if request.POST.get("consent") != "yes":
            consent_error = "Tick the box to agree to the new renewal terms."
        elif request.POST.get("terms_hash") != consents.terms_hash(shown):
            consent_error = (
                "The terms changed since this page was shown. Read them again and tick the "
                "box to agree."
            )
    if request.method == "POST" and not consent_error:
        try:
            expected = actions.PlanChangePreview(
                plan_id=plan.pk,
                immediate=request.POST.get("immediate") == "1",
                charge_minor=int(request.POST.get("charge_minor", "")),
                credit_minor=int(request.POST.get("credit_minor", "")),
                currency=plan.currency,
                applies_at=preview.applies_at,
                renewal_minor=plan.price_minor,
            )
            consent = consents.from_request(request, shown, now=now)
            actions.change_plan(
                sub, plan, now=now, expected=expected, actor=request.user, consent=consent
            )
        except ValueError:
            notice = "Please confirm the amount shown below."
        except actions.PreviewOutdated as exc:
            preview, notice = exc.preview, str(exc)
        except (PaymentError, actions.SubscriptionError) as exc:
            messages.error(request, str(exc))
            return redirect("subscriptions:account")
        else:
            messages.success(
                request,
                f"Your plan is now {plan.name}."
                if preview.immediate
                else f"You will move to {plan.name} when this period ends.",
            )
            return redirect("subscriptions:account")
    return render(
        request,
        "subscriptions/change_plan.html",
        {
            "subscription": sub,
            "plan": plan,
            "preview": preview,
            "notice": notice,
            "consent_error": consent_error,
            "terms_text": consents.change_terms_text(plan, preview),
            "terms_hash": consents.terms_hash(consents.change_terms_text(plan, preview)),
        },
    )


@login_required
def payment_method(request: HttpRequest) -> HttpResponse:
    """GET: the account page, at the card (the link of the dunning e-mails and the past-due
    banner; signed out, sign-in comes back here). POST: save the new card; a past-due
    subscription is retried at once."""
    if request.method != "POST":
        return account(request)
    now = clock.now()
    provider = get_provider()
    if not provider.collects_cards_on_site:
        raise Http404("Cards are managed at the payment provider")
    form = CardCheckoutForm(request.POST, now=now)
    if not form.is_valid():
        return account(request, card_form=form, status=400)
    try:
        card = provider.save_card(request.user, form.card(), now=now)
        actions.update_card(request.user, card, now=now)
    except PaymentError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"Your {card.brand} ending {card.last4} is now on file.")
    return redirect("subscriptions:account")


@login_required
def invoice(request: HttpRequest, pk: int) -> HttpResponse:
    entry = (
        LedgerEntry.objects.filter(pk=pk, user_id=_reader_id(request), kind=EntryKind.CHARGE)
        .select_related("subscription__plan")
        .first()
    )
    if entry is None:
        raise Http404("No such receipt")
    return render(
        request,
        "subscriptions/invoice.html",
        {
            # Money back, not bookkeeping: a gift's deferral rows are not the buyer's business.
            "adjustments": entry.adjustments.filter(
                kind__in=[EntryKind.CREDIT, EntryKind.REFUND]
            ).order_by("at", "pk"),
            "entry": entry,
        },
    )
