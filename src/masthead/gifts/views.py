"""The gift pages: create a link (a form POST from the article page), list and revoke them.
Rules live in `actions` and `allowance`; these views only ask and show."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST
from wagtail.models import Page

from masthead.core import clock
from masthead.gifts import actions, allowance
from masthead.gifts.models import GiftLink
from masthead.gifts.passes import GIFT_PARAMETER


def _article(raw: str | None) -> Any:
    """The live article a form names, or None (a bad id is not an error page)."""
    if not raw or not raw.isdigit() or len(raw) > 18:
        return None
    page = Page.objects.live().filter(pk=int(raw)).first()
    specific = page.specific if page is not None else None
    return specific if hasattr(specific, "access_level") else None


def gift_url(request: HttpRequest, article: Any, token: str) -> str:
    return request.build_absolute_uri(f"{article.url}?{GIFT_PARAMETER}={token}")


@never_cache
@require_POST
@login_required
def create(request: HttpRequest) -> HttpResponse:
    article = _article(request.POST.get("article"))
    if article is None:
        return TemplateResponse(
            request,
            "gifts/refused.html",
            {"message": "That article cannot be given. It may have been unpublished."},
            status=404,
        )
    try:
        made = actions.create_gift(request.user, article, now=clock.now())
    except actions.GiftRefused as refused:
        status = 403 if refused.code == "not_a_subscriber" else 409
        return TemplateResponse(
            request,
            "gifts/refused.html",
            {"message": refused.message, "article": article, "code": refused.code},
            status=status,
        )
    context = {
        "gift": made.gift,
        "article": article,
        "link": gift_url(request, article, made.token),
        "left": made.left,
    }
    return TemplateResponse(request, "gifts/created.html", context, status=201)


@never_cache
@login_required
def index(request: HttpRequest) -> HttpResponse:
    now = clock.now()
    gifts = list(
        GiftLink.objects.filter(giver_id=request.user.pk)
        .select_related("article")
        .order_by("-created_at", "-pk")[:200]
    )
    for gift in gifts:
        gift.status = gift.status_at(now)  # type: ignore[attr-defined]
    context = {
        "gifts": gifts,
        "may_give": allowance.may_give(request.user, now=now),
        "left": allowance.gifts_left(request.user, now=now),
    }
    return TemplateResponse(request, "gifts/index.html", context)


@require_POST
@login_required
def revoke(request: HttpRequest, gift_id: int) -> HttpResponse:
    # Another reader's gift is indistinguishable from one that does not exist.
    gift = get_object_or_404(
        GiftLink.objects.select_related("article"), pk=gift_id, giver=request.user
    )
    if actions.revoke_gift(gift, actor=request.user, now=clock.now()):
        messages.success(request, f"The gift link for “{gift.article.title}” no longer works.")
    return redirect("gifts:index")
