"""The gift pages: buy (/gift/), the buyer's confirmation, and redeem (/gift/redeem/<code>/).
Views validate input and call `masthead.giftsubs.actions`; every rule lives there."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone

from masthead.billing.forms import CardCheckoutForm, CheckoutForm
from masthead.billing.models import PaymentMethod
from masthead.billing.providers import PaymentError, PaymentPending, get_provider
from masthead.core import clock
from masthead.giftsubs import actions
from masthead.giftsubs.forms import GiftForm
from masthead.giftsubs.models import GiftSubscription


def buy(request: HttpRequest) -> HttpResponse:
    """Anyone may see the prices; buying needs an account (the receipt, the ledger row and
    a refund all belong to the buyer's account: decision 0037)."""
    now = clock.now()
    plan = actions.gift_plan(now)
    if plan is None:
        return render(
            request,
            "giftsubs/unavailable.html",
            {
                "title": "Gift subscriptions are not on sale",
                "message": "There is no subscription plan to give right now. Please come back "
                "later.",
            },
            status=404,
        )
    provider = get_provider()
    signed_in = request.user.is_authenticated
    card_class = CardCheckoutForm if provider.collects_cards_on_site else None
    error = ""
    if request.method == "POST" and signed_in:
        user: Any = request.user
        form = GiftForm(request.POST, now=now)
        card: Any = card_class(request.POST, now=now) if card_class else CheckoutForm(request.POST)
        if form.is_valid() and card.is_valid():
            key = card.cleaned_data["checkout_key"]
            try:
                if card_class:
                    card_ref = provider.save_card(user, card.card(), now=now).provider_ref
                else:
                    saved = PaymentMethod.current_for(user.pk)
                    if saved is None:
                        raise PaymentError(
                            "Subscribe once with a card first, or contact us to buy a gift."
                        )
                    card_ref = saved.provider_ref
                gift = actions.purchase(
                    user,
                    months=form.cleaned_data["months"],
                    recipient_email=form.cleaned_data["recipient_email"],
                    recipient_name=form.cleaned_data["recipient_name"],
                    message=form.cleaned_data["message"],
                    deliver_on=form.cleaned_data["deliver_on"],
                    card_ref=card_ref,
                    provider=provider.name,
                    purchase_key=key,
                    now=now,
                )
            except (PaymentError, actions.GiftError) as exc:
                error = exc.message if isinstance(exc, actions.GiftError) else str(exc)
                initial: dict[str, Any] = (
                    {"checkout_key": key} if isinstance(exc, PaymentPending) else {}
                )
                if card_class:
                    initial.update(card.kept_values())
                    card = card_class(initial=initial, now=now)
                else:
                    card = CheckoutForm(initial=initial)
            else:
                return redirect("giftsubs:thanks", gift_id=gift.pk)
    else:
        form = GiftForm(now=now, initial={"months": 3})
        card = (card_class(now=now) if card_class else CheckoutForm()) if signed_in else None
    return render(
        request,
        "giftsubs/buy.html",
        {
            "plan": plan,
            "choices": actions.choices(plan),
            "form": form,
            "card": card,
            "card_form": card_class is not None,
            "error": error,
            "signed_in": signed_in,
            "today": actions.today(now).isoformat(),
            "last_day": (
                actions.today(now) + timedelta(days=actions.MAX_DELIVERY_DAYS)
            ).isoformat(),
            "login_url": reverse("account_login") + "?next=" + reverse("giftsubs:buy"),
            "signup_url": reverse("account_signup") + "?next=" + reverse("giftsubs:buy"),
        },
        status=200,
    )


@login_required
def thanks(request: HttpRequest, gift_id: int) -> HttpResponse:
    gift = GiftSubscription.objects.filter(pk=gift_id, buyer_id=request.user.pk).first()
    if gift is None:
        raise Http404("No such gift")
    return render(request, "giftsubs/thanks.html", {"gift": gift, "now": clock.now()})


def redeem(request: HttpRequest, code: str) -> HttpResponse:
    """GET: what redeeming does (or why it cannot); POST (signed in): redeem."""
    now = clock.now()
    gift = actions.find(code)
    user: Any = request.user if request.user.is_authenticated else None
    verdict = actions.preview(gift, user, now=now)
    if verdict.refusal is None and request.method == "POST" and user is not None:
        try:
            gift = actions.redeem(code, user, now=now)
        except actions.GiftError as exc:
            verdict = actions.Preview(exc.code if exc.code in actions.REFUSALS else "not_found")
        else:
            ends = timezone.localtime(gift.ends_at or now)
            messages.success(
                request,
                f"Your gift is redeemed: you can read everything until "
                f"{ends:%B} {ends.day}, {ends.year}.",
            )
            return redirect("subscriptions:account")
    if verdict.refusal is not None:
        title, message = actions.refusal_text(verdict.refusal)
        status = 404 if verdict.refusal == "not_found" else 409 if user else 410
        if verdict.refusal in ("used", "refunded", "expired"):
            status = 410
        return render(
            request,
            "giftsubs/unavailable.html",
            {"title": title, "message": message, "refusal": verdict.refusal},
            status=status,
        )
    assert gift is not None
    here = request.path
    return render(
        request,
        "giftsubs/redeem.html",
        {
            "gift": gift,
            "verdict": verdict,
            "signed_in": user is not None,
            "login_url": reverse("account_login") + "?next=" + here,
            "signup_url": reverse("account_signup") + "?next=" + here,
        },
    )
