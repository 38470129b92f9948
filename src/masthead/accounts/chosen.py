"""What a reader on the way in came for, read from the `next` they carry through sign-in,
sign-up, codes and password reset: an offer (a checkout link) and the article behind it."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

from django.urls import Resolver404, resolve

from masthead.core import clock
from masthead.core.redirects import safe_next
from masthead.subscriptions.offers import OfferView, view_of_offer


@dataclass(frozen=True)
class Chosen:
    offer: OfferView | None = None
    article: str = ""  # the title of the article the reader will return to
    article_path: str = ""


def _article_title(path: str) -> str:
    from wagtail.models import Page

    path = urlsplit(path).path
    if not path.endswith("/"):
        return ""
    page = Page.objects.live().filter(url_path__endswith=path).specific().first()
    return page.title if page is not None and page.depth > 2 else ""


def chosen_from_next(target: str, user_id: int | None) -> Chosen:
    target = safe_next(target)
    if not target:
        return Chosen()
    parts = urlsplit(target)
    try:
        match = resolve(parts.path)
    except Resolver404:
        match = None
    if match is not None and match.view_name == "billing:checkout_offer":
        from masthead.subscriptions.models import Offer

        offer = Offer.objects.select_related("plan").filter(code=match.kwargs["code"]).first()
        back = safe_next((parse_qs(parts.query).get("next") or [""])[0])
        if offer is not None and offer.is_live(clock.now()):
            return Chosen(
                offer=view_of_offer(offer),
                article=_article_title(back) if back else "",
                article_path=back,
            )
    title = _article_title(target)
    return Chosen(article=title, article_path=target if title else "")
