"""The apps API, version 1: validates input, calls the domains, holds no rules of its own."""

from __future__ import annotations

import math
from typing import Any

from allauth.account import app_settings as allauth_settings
from allauth.account.adapter import get_adapter
from allauth.account.models import EmailAddress
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import HttpRequest, HttpResponse
from ninja import Field as NinjaField
from ninja import NinjaAPI, Query, Schema

from masthead.access.decision import Reason
from masthead.access.doors import (
    TERMS_PATH,
    anyone,
    mark_reader_dependent,
    mark_shared,
    open_article,
    peek,
    refuse_automated,
    visible_blocks,
)
from masthead.access.messages import automated
from masthead.accounts.actions import issue_app_token, revoke_app_token, revoke_personal_token
from masthead.api import serialize
from masthead.api.auth import app_token, token_or_anonymous
from masthead.api.errors import ApiError, install_handlers
from masthead.api.schemas import (
    TEXT_PATTERN,
    ArticleDetail,
    ArticlePageOut,
    AutomatedRefusal,
    ErrorEnvelope,
    MeOut,
    SectionOut,
    TokenOut,
    TokenRequest,
)
from masthead.core import clock
from masthead.newsroom.models import ArticlePage, SectionPage
from masthead.subscriptions.entitlements import entitlement_for

# Page primary keys are 32-bit: anything larger cannot exist and must not reach the database.
MAX_ID = 2**31 - 1

api = NinjaAPI(
    title="Masthead apps API",
    version="1",
    description="Articles, sections and the signed-in reader, for Masthead's mobile and tablet "
    'apps. Errors are JSON: {"error": {"code": ..., "message": ...}}.',
    urls_namespace="api-v1",
    docs_url=None,
)
install_handlers(api)

# 429: the per-client limit on API reads (masthead.core.ratelimit, docs/operations.md).
# 403: a personal token without the `api` scope (code token_scope, docs/personal-tokens.md).
ERRORS = {
    400: ErrorEnvelope,
    401: ErrorEnvelope,
    403: ErrorEnvelope,
    404: ErrorEnvelope,
    429: ErrorEnvelope,
}


class ArticleFilters(Schema):
    section: str | None = NinjaField(
        None, max_length=255, pattern=TEXT_PATTERN, description="A section's slug."
    )
    page: int = NinjaField(1, ge=1, le=100_000)
    page_size: int = NinjaField(20, ge=1, le=50)


def _shared(request: HttpRequest, response: HttpResponse) -> HttpResponse:
    """What nobody in particular may see: public for shared caches, unless the client sent a
    token (a response to a request with credentials is never made public)."""
    if "authorization" in request.headers:
        return _reader_dependent(response)
    return mark_shared(response)


def _reader_dependent(response: HttpResponse) -> HttpResponse:
    mark_reader_dependent(response)
    response["Vary"] = ", ".join(
        dict.fromkeys([*filter(None, response.get("Vary", "").split(", ")), "Authorization"])
    )
    return response


@api.post(
    "/auth/token",
    response={
        201: TokenOut,
        400: ErrorEnvelope,
        401: ErrorEnvelope,
        403: ErrorEnvelope,
        429: ErrorEnvelope,
    },
    summary="Sign an app in with e-mail and password",
    tags=["auth"],
)
def create_token(request: HttpRequest, credentials: TokenRequest) -> tuple[int, dict[str, Any]]:
    """Shares the web sign-in's rate limit: the sixth failed attempt in five minutes is refused."""
    adapter = get_adapter(request)
    try:
        user = adapter.authenticate(
            request, email=credentials.email.strip(), password=credentials.password
        )
    except DjangoValidationError as exc:
        raise ApiError(429, "rate_limited", "Too many failed sign-in attempts. Try later.") from exc
    if user is None:
        raise ApiError(401, "invalid_credentials", "The e-mail address or password is wrong.")
    if not user.is_active:
        # allauth authenticates inactive accounts so the web can explain; so does the API.
        raise ApiError(403, "account_inactive", "This account has been closed.")
    if (
        allauth_settings.EMAIL_VERIFICATION == allauth_settings.EmailVerificationMethod.MANDATORY
        and not EmailAddress.objects.filter(user=user, verified=True).exists()
    ):
        raise ApiError(403, "email_unverified", "Verify your e-mail address first.")
    token, raw = issue_app_token(user, name=credentials.name, now=clock.now())
    return 201, {
        "token": raw,
        "token_id": token.pk,
        "name": token.name,
        "created_at": token.created_at,
    }


@api.delete(
    "/auth/token",
    auth=app_token,
    response={204: None, 401: ErrorEnvelope, 403: ErrorEnvelope, 429: ErrorEnvelope},
    summary="Sign this app out (revoke the token it sent)",
    tags=["auth"],
)
def delete_token(request: HttpRequest) -> tuple[int, None]:
    """An app token is revoked; so is a personal token with the `api` scope that was sent."""
    token = getattr(request, "personal_token", None)
    if token is not None:
        revoke_personal_token(token, now=clock.now())
    else:
        revoke_app_token(request.app_token, now=clock.now())  # type: ignore[attr-defined]
    return 204, None


@api.get(
    "/sections",
    response={200: list[SectionOut], 429: ErrorEnvelope},
    summary="Sections",
    tags=["content"],
)
def list_sections(request: HttpRequest, response: HttpResponse) -> list[dict[str, Any]]:
    _shared(request, response)
    return [
        {
            "id": section.pk,
            "title": section.title,
            "slug": section.slug,
            "url": serialize.absolute(section.get_url(request)),
            "intro": section.intro,
        }
        for section in anyone().readable(SectionPage.objects.live()).order_by("path")
    ]


@api.get(
    "/articles",
    response={200: ArticlePageOut, **ERRORS},
    summary="Published articles, newest first (never their body)",
    tags=["content"],
)
def list_articles(
    request: HttpRequest, response: HttpResponse, filters: Query[ArticleFilters]
) -> dict[str, Any]:
    # Shared by every client (publicly cached): what nobody in particular may see.
    screen = anyone()
    articles = screen.readable(ArticlePage.objects.live())
    if filters.section is not None:
        live_sections = screen.readable(SectionPage.objects.live())
        section = live_sections.filter(slug=filters.section).first()
        if section is None:
            raise ApiError(404, "section_not_found", f"No section {filters.section!r}.")
        articles = articles.child_of(section)
    total = articles.count()
    pages = max(1, math.ceil(total / filters.page_size))
    if filters.page > pages:
        raise ApiError(404, "page_not_found", f"There are {pages} page(s) of articles.")
    start = (filters.page - 1) * filters.page_size
    window = (
        articles.select_related("sponsor")
        .prefetch_related("bylines__author")
        .order_by("-first_published_at", "-pk")[start : start + filters.page_size]
    )
    sections = serialize.sections_by_path()
    _shared(request, response)
    return {
        "items": [serialize.summary(article, sections, request) for article in window],
        "page": filters.page,
        "page_size": filters.page_size,
        "total": total,
        "pages": pages,
    }


@api.get(
    "/articles/{article_id}",
    auth=token_or_anonymous,
    response={200: ArticleDetail, 402: AutomatedRefusal, **ERRORS},
    summary="One article, its body cut where this reader's access ends",
    tags=["content"],
)
def get_article(request: HttpRequest, response: HttpResponse, article_id: int) -> Any:
    """The body goes through the same access decision as the article page: a reader who may
    only see the preview receives the preview blocks and nothing after them. An automated
    client the machine policy does not grant gets 402 with code `automated_client`, the
    terms' address and the article cut to its preview (docs/machines.md)."""
    _reader_dependent(response)
    article = (
        ArticlePage.objects.live()
        .select_related("sponsor", "hero_image")
        .prefetch_related("bylines__author")
        .filter(pk=article_id)
        .first()
        if 1 <= article_id <= MAX_ID
        else None
    )
    if article is None:
        raise ApiError(404, "article_not_found", f"No published article {article_id}.")
    # An app client with a token is a reader with a stable identity: their reads count against
    # their own meter. A client without one has no identity to meter (it could drop any cookie),
    # so it gets what reading without counting allows: free articles in full, previews otherwise.
    # A personal token (decision 0031) is its owner's, read without counting: `peek` for them.
    signed_in = getattr(request, "app_token", None) is not None
    decision = open_article(request, article) if signed_in else peek(request, article)
    if decision.hidden:  # private to this reader: as absent as an unpublished article
        raise ApiError(404, "article_not_found", f"No published article {article_id}.")
    detail = serialize.detail(article, decision, visible_blocks(article, decision), request)
    if decision.reason is Reason.AUTOMATED:
        refuse_automated(response)
        error = {"code": "automated_client", "message": automated(), "terms": TERMS_PATH}
        return 402, {"error": error, "article": detail}
    return detail


@api.get(
    "/me",
    auth=app_token,
    response={200: MeOut, 401: ErrorEnvelope, 403: ErrorEnvelope, 429: ErrorEnvelope},
    summary="The signed-in reader and what their subscription includes",
    tags=["account"],
)
def me(request: HttpRequest, response: HttpResponse) -> dict[str, Any]:
    _reader_dependent(response)
    user = request.auth  # type: ignore[attr-defined]  # the token's reader (AppTokenAuth)
    entitlement = entitlement_for(user.pk, now=clock.now())
    return {
        "id": user.pk,
        "email": user.email,
        "email_verified": EmailAddress.objects.filter(user=user, verified=True).exists(),
        "entitlement": {
            "status": entitlement.status,
            "reads_everything": entitlement.reads_everything,
            # "Use our mobile and tablet apps" is part of what a subscription gives.
            "apps": entitlement.reads_everything,
            "plan_name": entitlement.plan_name,
            "lapsed": str(entitlement.lapsed) if entitlement.lapsed else None,
        },
    }
