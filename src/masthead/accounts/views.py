"""The reader's account overview and the account actions that are not allauth's."""

from __future__ import annotations

from typing import cast

from allauth.account.models import EmailAddress
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import AbstractUser
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from masthead.accounts import actions
from masthead.accounts.models import AppToken
from masthead.core import clock
from masthead.subscriptions.entitlements import entitlement_for


@never_cache
@login_required
def overview(request: HttpRequest) -> HttpResponse:
    user = cast(AbstractUser, request.user)  # login_required
    address = EmailAddress.objects.filter(user=user, primary=True).first()
    context = {
        "email": address.email if address else user.email,
        "email_verified": bool(address and address.verified),
        "entitlement": entitlement_for(user.pk, now=clock.now()),
        "tokens": actions.live_tokens_of(user),
    }
    return TemplateResponse(request, "accounts/overview.html", context)


@require_POST
@login_required
def log_out_everywhere(request: HttpRequest) -> HttpResponse:
    actions.log_out_everywhere(request.user, now=clock.now())
    logout(request)
    messages.success(
        request, "You are signed out on every browser and app. Sign in again to continue."
    )
    return redirect("account_login")


@require_POST
@login_required
def revoke_token(request: HttpRequest, token_id: int) -> HttpResponse:
    # Another reader's token is indistinguishable from one that does not exist.
    token = get_object_or_404(AppToken, pk=token_id, user=request.user)
    if actions.revoke_app_token(token, now=clock.now()):
        messages.success(request, f"The app token “{token.name}” no longer works.")
    return redirect("account_overview")
