"""The reader's account overview and the account actions that are not allauth's."""

from __future__ import annotations

import logging
from typing import cast

from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import AbstractUser
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from masthead.accounts import actions, erasure, personal
from masthead.accounts.models import AppToken, PersonalToken
from masthead.core import cdn, clock
from masthead.core.clientip import client_ip
from masthead.core.links import absolute
from masthead.newsroom.feeds import PersonalArticleFeed
from masthead.subscriptions.actions import SubscriptionError
from masthead.subscriptions.entitlements import entitlement_for

log = logging.getLogger("masthead.accounts")


@never_cache
@login_required
def overview(
    request: HttpRequest, extra: dict[str, object] | None = None, status: int = 200
) -> HttpResponse:
    user = cast(AbstractUser, request.user)  # login_required
    address = EmailAddress.objects.filter(user=user, primary=True).first()
    context = {
        "email": address.email if address else user.email,
        "email_verified": bool(address and address.verified),
        "entitlement": entitlement_for(user.pk, now=clock.now()),
        "tokens": actions.live_tokens_of(user),
        "personal_tokens": actions.personal_tokens_of(user),
        "personal_limit": settings.PERSONAL_TOKEN_LIMIT,
        "scopes": actions.PERSONAL_SCOPES,
        "form": {"name": "", "scopes": ["feed"]},
    }
    return TemplateResponse(
        request, "accounts/overview.html", {**context, **(extra or {})}, status=status
    )


@require_POST
@login_required
def create_personal_token(request: HttpRequest) -> HttpResponse:
    """Make a personal token and show it once, on this page (it is never shown again)."""
    name = request.POST.get("name", "")[:200]
    scopes = [scope for scope in request.POST.getlist("scopes") if scope]
    try:
        token, raw = actions.issue_personal_token(
            request.user, name=name, scopes=scopes, now=clock.now()
        )
    except actions.PersonalTokenRefused as refused:
        return overview(
            request,
            extra={"token_error": str(refused), "form": {"name": name, "scopes": scopes}},
            status=400,
        )
    new = {
        "token": token,
        "raw": raw,
        "feed_url": absolute(reverse("personal_feed", args=[raw])) if token.feed else "",
    }
    return overview(request, extra={"new_token": new}, status=201)


@require_POST
@login_required
def revoke_personal_token(request: HttpRequest, token_id: int) -> HttpResponse:
    token = get_object_or_404(PersonalToken, pk=token_id, user=request.user)
    if actions.revoke_personal_token(token, now=clock.now()):
        messages.success(request, f"The personal token “{token.name}” no longer works.")
    return redirect(reverse("account_overview") + "#personal-tokens")


_FEED = PersonalArticleFeed()


def personal_feed(request: HttpRequest, token: str) -> HttpResponse:
    """/feeds/private/<token>/: the token owner's full-text feed, or a plain explanation."""
    if request.method not in ("GET", "HEAD"):
        return cdn.mark_private(HttpResponseNotAllowed(["GET", "HEAD"]))
    admission = personal.admit(token, scope="feed", address=client_ip(request), now=clock.now())
    if admission.refusal is not None:
        response = HttpResponse(
            admission.message + "\n",
            status=admission.status,
            content_type="text/plain; charset=utf-8",
        )
        if admission.retry_after:
            response["Retry-After"] = str(admission.retry_after)
        return cdn.mark_private(response)
    assert admission.token is not None
    return _FEED(request, reader=personal.identity_of(admission.token.user))


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


@never_cache
@login_required
def download_data(request: HttpRequest) -> HttpResponse:
    """The reader's own data as a JSON file (never another reader's: no id is taken)."""
    response = HttpResponse(
        erasure.export_json(request.user), content_type="application/json; charset=utf-8"
    )
    response["Content-Disposition"] = 'attachment; filename="my-masthead-data.json"'
    return response


@never_cache
@login_required
def delete_account(request: HttpRequest) -> HttpResponse:
    """Explain what is erased and what is kept, then erase on the reader's password."""
    user = cast(AbstractUser, request.user)
    context: dict[str, object] = {
        "staff": user.is_staff or user.is_superuser,
        "needs_password": user.has_usable_password(),
        "email": user.email,
        "error": "",
    }
    if request.method != "POST" or context["staff"]:
        return TemplateResponse(request, "accounts/delete.html", context)
    confirmed = (
        user.check_password(request.POST.get("password", ""))
        if user.has_usable_password()
        else request.POST.get("email", "").strip().lower() == user.email.lower()
    )
    if not confirmed:
        context["error"] = (
            "That password is not right. Your account was not deleted."
            if user.has_usable_password()
            else "That is not your account's e-mail address. Your account was not deleted."
        )
        return TemplateResponse(request, "accounts/delete.html", context, status=400)
    try:
        erasure.erase_reader(
            user, now=clock.now(), reason="Deleted by the reader", requested_by_reader=True
        )
    except SubscriptionError as error:
        # The subscription could not be stopped at the provider: nothing was erased.
        log.warning("account erasure of user %s stopped: %s", user.pk, error)
        context["error"] = (
            "We could not cancel your subscription with the payment provider just now, so "
            "nothing was deleted. Please try again in a few minutes."
        )
        return TemplateResponse(request, "accounts/delete.html", context, status=503)
    logout(request)
    messages.success(request, "Your account is deleted. We are sorry to see you go.")
    return redirect("/")
