"""Turn pages into the API's dictionaries, in a fixed number of queries per list."""

from __future__ import annotations

import logging
from typing import Any

from django.http import HttpRequest
from wagtail.images.models import SourceImageIOError
from wagtail.models import Page

from masthead.access.decision import Decision, Level
from masthead.access.doors import anyone
from masthead.core.links import absolute
from masthead.newsroom.models import ArticlePage, SectionPage
from masthead.newsroom.text import sanitize_html

log = logging.getLogger("masthead.api")

SPONSORED_LABEL = "Sponsored content"
IMAGE_RENDITION = "max-1600x1600"


def sections_by_path() -> dict[str, SectionPage]:
    sections = anyone().readable(SectionPage.objects.live())
    return {section.path: section for section in sections}


def summary(
    article: ArticlePage, sections: dict[str, SectionPage], request: HttpRequest
) -> dict[str, Any]:
    section = sections.get(article.path[: -Page.steplen])
    sponsor = article.sponsor if article.sponsored else None
    return {
        "id": article.pk,
        "headline": article.title,
        "standfirst": article.standfirst,
        "url": absolute(article.get_url(request)),
        "section": (
            {"id": section.pk, "title": section.title, "slug": section.slug} if section else None
        ),
        "authors": [
            {
                "id": byline.author.pk,
                "name": byline.author.title,
                "url": absolute(byline.author.get_url(request)),
            }
            for byline in article.bylines.all()
        ],
        "published_at": article.first_published_at,
        "updated_at": article.updated_at,
        "access_level": article.access_level,
        "sponsored": article.sponsored,
        "sponsored_label": SPONSORED_LABEL if article.sponsored else None,
        "sponsor": {"name": sponsor.name, "disclosure": sponsor.disclosure} if sponsor else None,
    }


def image(picture: Any, *, caption: str = "", credit: str = "") -> dict[str, Any] | None:
    if picture is None:
        return None
    try:
        rendition = picture.get_rendition(IMAGE_RENDITION)
    except (SourceImageIOError, OSError):
        # A missing original must not take the article down with it; the operator is told.
        log.warning("image %s has no readable original; left out of the API", picture.pk)
        return None
    return {
        "url": absolute(rendition.url),
        "width": rendition.width,
        "height": rendition.height,
        "alt": caption or picture.default_alt_text or "",
        "caption": caption,
        "credit": credit,
    }


def block(child: Any) -> dict[str, Any] | None:
    kind = child.block_type
    value = child.value
    if kind == "paragraph":
        # Exactly what the article page renders: the one sanitizer, same tags and schemes.
        return {"type": kind, "value": str(sanitize_html(value))}
    if kind == "image":
        picture = image(value["image"], caption=value["caption"], credit=value["credit"])
        return {"type": kind, "value": picture} if picture else None
    return {"type": kind, "value": child.block.get_api_representation(value)}


def detail(
    article: ArticlePage, decision: Decision, blocks: list[Any], request: HttpRequest
) -> dict[str, Any]:
    body = [serialized for serialized in map(block, blocks) if serialized is not None]
    return {
        **summary(article, sections_by_path(), request),
        "dateline": article.dateline,
        "hero": image(article.hero_image, caption=article.hero_caption, credit=article.hero_credit),
        "access": {
            "level": str(decision.level),
            "reason": str(decision.reason),
            "message": decision.message,
            "truncated": decision.level is not Level.FULL,
        },
        "body": body,
    }
