"""The shapes the apps API sends and accepts (documented in docs/openapi.json)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ninja import Field, Schema

# Text a client sends: no NUL character (PostgreSQL cannot store one). The middleware refuses
# it for every view; the pattern tells clients (and schemathesis) so in the contract.
TEXT_PATTERN = r"^[^\x00]*$"


class Error(Schema):
    code: str = Field(examples=["not_found"])
    message: str


class ErrorEnvelope(Schema):
    error: Error


class TokenRequest(Schema):
    email: str = Field(min_length=3, max_length=254, pattern=TEXT_PATTERN)
    password: str = Field(min_length=1, max_length=4096, pattern=TEXT_PATTERN)
    name: str = Field(
        default="Masthead app",
        min_length=1,
        max_length=80,
        pattern=TEXT_PATTERN,
        description="Shown on the account page.",
    )


class TokenOut(Schema):
    token: str = Field(description="Send as 'Authorization: Bearer <token>'. Shown only once.")
    token_id: int
    name: str
    created_at: datetime


class SectionOut(Schema):
    id: int
    title: str
    slug: str
    url: str
    intro: str


class SectionRef(Schema):
    id: int
    title: str
    slug: str


class AuthorOut(Schema):
    id: int
    name: str
    url: str


class SponsorOut(Schema):
    name: str
    disclosure: str


class ArticleSummary(Schema):
    id: int
    headline: str
    standfirst: str
    url: str
    section: SectionRef | None
    authors: list[AuthorOut]
    published_at: datetime | None
    updated_at: datetime | None
    access_level: str = Field(description="metered, free or subscribers")
    sponsored: bool
    sponsored_label: str | None = Field(description='"Sponsored content" when sponsored')
    sponsor: SponsorOut | None


class ArticlePageOut(Schema):
    items: list[ArticleSummary]
    page: int
    page_size: int
    total: int
    pages: int


class ImageOut(Schema):
    url: str
    width: int
    height: int
    alt: str
    caption: str
    credit: str


class AccessOut(Schema):
    level: str = Field(description="full, preview or none")
    reason: str
    message: str = Field(description="The one message this reader sees, already rendered.")
    truncated: bool = Field(description="True when the body stops at the preview cut.")


class BodyBlock(Schema):
    type: str = Field(description="paragraph, subheading, image or pull_quote")
    value: Any = Field(
        description="paragraph: HTML; subheading: text; image: an image object; "
        "pull_quote: {quote, attribution}"
    )


class ArticleDetail(ArticleSummary):
    dateline: str
    hero: ImageOut | None
    access: AccessOut
    body: list[BodyBlock]


class AutomatedError(Error):
    terms: str = Field(
        description="The machine-readable terms (signals, licensing contact).",
        examples=["/machine-access.json"],
    )


class AutomatedRefusal(Schema):
    """An automated client the machine policy does not grant, on a gated article: the error
    with code `automated_client`, and the article cut to its preview (docs/machines.md)."""

    error: AutomatedError
    article: ArticleDetail


class EntitlementOut(Schema):
    status: str
    reads_everything: bool
    apps: bool = Field(description="Whether the reader's subscription includes the apps.")
    plan_name: str
    lapsed: str | None = Field(description="trial or subscription, when access has lapsed")


class MeOut(Schema):
    id: int
    email: str
    email_verified: bool
    entitlement: EntitlementOut
