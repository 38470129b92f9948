"""Checkout (test provider card form, or a redirect to Stripe Checkout) and the return page.

Views sit above both the payments layer (`masthead.billing`) and the subscriptions domain;
the URL names keep their `billing:` namespace (`checkout_urls.py`)."""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from masthead.billing.forms import CardCheckoutForm, CheckoutForm
from masthead.billing.providers import PaymentError, PaymentPending, get_provider
from masthead.core import clock, events
from masthead.core.money import format_money
from masthead.core.redirects import safe_next
from masthead.subscriptions import actions, stripe_events
from masthead.subscriptions import consent as consents
from masthead.subscriptions.entitlements import entitlement_for
from masthead.subscriptions.models import Offer, OfferKind, Plan, Subscription
from masthead.subscriptions.offers import checkout_terms, ends_text

log = logging.getLogger("masthead.billing")


def _unavailable(request: HttpRequest, title: str, message: str, status: int) -> HttpResponse:
    return render(
        request,
        "billing/unavailable.html",
        {"title": title, "message": message},
        status=status,
    )


@login_required
def checkout_offer(request: HttpRequest, code: str) -> HttpResponse:
    offer = Offer.objects.select_related("plan").filter(code=code).first()
    if offer is None:
        return _unavailable(
            request,
            "We could not find that offer",
            "The offer code in this link is not one of ours. It may have been mistyped.",
            404,
        )
    if not offer.is_live(clock.now()):
        refusal = actions.offer_refusal(request.user.pk, offer, now=clock.now())
        return _unavailable(request, "This offer is not available", str(refusal), 410)
    return _checkout(request, plan=offer.plan, offer=offer)


@login_required
def checkout_plan(request: HttpRequest, slug: str) -> HttpResponse:
    plan = Plan.objects.filter(slug=slug).first()
    if plan is None or not plan.is_live(clock.now()):
        return _unavailable(
            request,
            "This plan is not available",
            "We no longer sell this plan, or the link is mistyped.",
            404,
        )
    return _checkout(request, plan=plan, offer=None)


def _seats(request: HttpRequest, plan: Plan) -> tuple[int, str]:
    """A group plan's seat count from the form (2 by default) and why it is refused, if it is."""
    if not plan.group:
        return 1, ""
    raw = (
        request.POST.get("seats") if request.method == "POST" else request.GET.get("seats")
    ) or "2"
    seats = int(raw) if raw.isdigit() and len(raw) < 5 else 0
    return seats, actions.seats_refusal(plan, seats) or ""


def _checkout(request: HttpRequest, *, plan: Plan, offer: Offer | None) -> HttpResponse:
    now = clock.now()
    seats, seats_error = _seats(request, plan)
    user: Any = request.user
    provider = get_provider()
    is_trial = offer is not None and offer.kind == OfferKind.TRIAL
    needs_card = not is_trial or (offer is not None and offer.card_required)
    refusal = (
        actions.offer_refusal(user.pk, offer, now=now)
        if offer is not None
        else (
            "You already have a subscription. Manage it from your account."
            if actions.live_subscription(user.pk)
            else None
        )
    )
    form_class = CardCheckoutForm if needs_card and provider.collects_cards_on_site else None
    key = request.POST.get("checkout_key") if request.method == "POST" else None
    if key and Subscription.objects.filter(checkout_key=key, user_id=user.pk).exists():
        # The same form submitted twice (a double click): show the first one's result.
        return redirect("subscriptions:account")
    error = consent_error = ""
    renews = consents.auto_renews(offer)
    terms_text = consents.terms_text(plan, offer, now=now) if renews else ""
    if request.method == "POST" and refusal is None:
        form: Any = form_class(request.POST, now=now) if form_class else CheckoutForm(request.POST)
        consent = None
        if renews:
            consent_error = _consent_error(request, terms_text)
            if not consent_error:
                consent = consents.from_request(request, terms_text, now=now)
        # Without consent nothing is charged; the bound form keeps every non-secret field.
        if seats_error:
            error = seats_error
        elif form.is_valid() and not consent_error:
            key = form.cleaned_data["checkout_key"]
            try:
                if not provider.collects_cards_on_site and needs_card:
                    if consent is not None:
                        actions.record_checkout_consent(
                            user, consent, plan=plan, offer=offer, checkout_key=key
                        )
                    return redirect(
                        provider.start_checkout(
                            user=user,
                            plan=plan,
                            offer=offer,
                            success_url=request.build_absolute_uri(reverse("billing:returned")),
                            cancel_url=request.build_absolute_uri(request.path),
                            idempotency_key=key,
                            **({"quantity": seats} if plan.group else {}),
                        )
                    )
                card = provider.save_card(user, form.card(), now=now) if form_class else None
                if is_trial:
                    assert offer is not None
                    actions.start_trial(
                        user, offer, now=now, card=card, checkout_key=key, consent=consent
                    )
                else:
                    assert card is not None
                    actions.subscribe(
                        user,
                        plan=plan,
                        offer=offer,
                        card=card,
                        now=now,
                        checkout_key=key,
                        consent=consent,
                        seats=seats,
                    )
            except (PaymentError, actions.SubscriptionError) as exc:
                error = str(exc)
                # An unknown outcome keeps the form's key: submitting again is the same
                # payment, never a second one. Anything else starts a fresh form.
                initial = {"checkout_key": key} if isinstance(exc, PaymentPending) else {}
                if form_class:
                    # Every non-secret field as typed; the card number and CVC start empty.
                    initial.update(form.kept_values())
                    form = form_class(initial=initial, now=now)
                else:
                    form = CheckoutForm(initial=initial)
            else:
                back = safe_next(request.GET.get("next"))
                messages.success(
                    request,
                    f"Welcome! You now have full access to {settings.SITE_NAME}."
                    + (" Continue reading below." if back else ""),
                )
                return redirect(
                    back or ("groups:manage" if plan.group else "subscriptions:account")
                )
    else:
        form = form_class(now=now) if form_class else CheckoutForm()
        if request.method == "GET":
            events.record(
                events.OFFER_CLICKED,
                events.account(user.pk),
                offer=offer.pk if offer else None,
                code=offer.code if offer else "",
                plan=plan.pk,
            )
    return render(
        request,
        "billing/checkout.html",
        {
            "plan": plan,
            "offer": offer,
            "is_trial": is_trial,
            "due_today": _due_today(plan, offer, seats),
            "seats": seats,
            "ends_text": ends_text(offer.ends_at) if offer else "",
            "refusal": refusal,
            "error": error,
            "form": form,
            "card_form": form_class is not None,
            "terms": checkout_terms(plan, offer, now=now),
            "terms_text": terms_text,
            "terms_hash": consents.terms_hash(terms_text) if renews else "",
            "consent_error": consent_error,
            "back": safe_next(request.GET.get("next")),
        },
        status=200,
    )


def _consent_error(request: HttpRequest, terms_text: str) -> str:
    """Express consent: the box ticked, next to the very terms the server states now."""
    if request.POST.get("consent") != "yes":
        return "Tick the box to agree to the renewal terms before you pay."
    if request.POST.get("terms_hash") != consents.terms_hash(terms_text):
        return (
            "The terms changed since this page was shown. Read them again and tick the box "
            "to agree."
        )
    return ""


def _due_today(plan: Plan, offer: Offer | None, seats: int = 1) -> str:
    if offer is None:
        return format_money(plan.price_for(max(seats, 1)), plan.currency)
    if offer.kind == OfferKind.TRIAL:
        return format_money(0, plan.currency)
    return format_money(offer.intro_price_minor, plan.currency)


@login_required
def returned(request: HttpRequest) -> HttpResponse:
    """Where Stripe Checkout sends the reader back (`?session_id=`, filled in by Stripe).

    The browser's word grants nothing: Masthead asks Stripe for that session, and only if
    Stripe says it is complete and was started by this reader's customer does it mirror the
    subscription from Stripe's copy, so the reader does not wait for the webhook."""
    session_ref = request.GET.get("session_id", "")
    if session_ref and get_provider().name == "stripe" and len(session_ref) <= 200:
        try:
            stripe_events.sync_checkout(request.user, session_ref)
        except (PaymentError, actions.SubscriptionError, stripe_events.Ignored) as exc:
            log.warning("Checkout session %s not mirrored: %s", session_ref, exc)
    entitlement = entitlement_for(request.user.pk, now=clock.now())
    return render(request, "billing/returned.html", {"entitlement": entitlement})


@login_required
@require_POST
def portal(request: HttpRequest) -> HttpResponse:
    """The Stripe customer portal: the reader's card and invoices (decision 0019)."""
    provider = get_provider()
    if not hasattr(provider, "portal_url"):
        raise Http404("Cards and invoices are managed on this site")
    try:
        url = provider.portal_url(
            request.user, return_url=request.build_absolute_uri(reverse("subscriptions:account"))
        )
    except PaymentError as exc:
        messages.error(request, str(exc))
        return redirect("subscriptions:account")
    return redirect(url)
