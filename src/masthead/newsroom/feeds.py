"""RSS and Atom feeds, for the site and per section.

A feed is shared by every reader and outlives the request (aggregators keep it), so it is made
for nobody in particular: its items are the articles `anyone()` may see (private and
unpublished pages never appear), and an item carries its full text only when `peek` says the
article is free for everyone for good (`Decision.free_for_everyone`: free or sponsored, not a
campaign's temporary opening); otherwise the standfirst alone. Feeds never count a read.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.syndication.views import Feed
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.utils.feedgenerator import Atom1Feed, Rss201rev2Feed, SyndicationFeed
from wagtail.blocks import StreamValue

from masthead.access.doors import (
    anyone,
    mark_reader_dependent,
    mark_shared,
    peek,
    peek_for,
    visible_blocks,
)
from masthead.core.links import absolute
from masthead.newsroom import listing
from masthead.newsroom.article_view import body_blocks

DEFAULT_ITEMS = 20
MAX_ITEMS = 50
SPONSORED_LABEL = "Sponsored content"


class BadFeedParameter(ValueError):
    pass


def item_count(request: HttpRequest) -> int:
    """?limit=N (1-50); anything else is a bad request, not a silent default."""
    raw = request.GET.get("limit")
    if raw is None:
        return DEFAULT_ITEMS
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 3 or not 1 <= int(raw) <= MAX_ITEMS:
        raise BadFeedParameter(f"The feed's limit must be a whole number from 1 to {MAX_ITEMS}.")
    return int(raw)


@dataclass(frozen=True)
class FeedScope:
    """What one request asked for (the Feed instance is shared between requests)."""

    section: Any
    limit: int
    feed_path: str = ""
    reader: Any = None  # the personal feed's owner (a ReaderIdentity)


class ArticleFeed(Feed):
    feed_type: type[SyndicationFeed] = Rss201rev2Feed

    def __call__(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            item_count(request)
        except BadFeedParameter as exc:
            return listing.bad_request(request, str(exc))
        # Made for nobody in particular (`anyone()`): the same for every reader.
        return mark_shared(super().__call__(request, *args, **kwargs))

    def get_object(self, request: HttpRequest, section: str | None = None) -> FeedScope:
        from masthead.newsroom.models import SectionPage

        limit = item_count(request)
        found = anyone().readable(SectionPage.objects.live()).get(slug=section) if section else None
        return FeedScope(section=found, limit=limit, feed_path=request.get_full_path())

    def title(self, obj: FeedScope) -> str:
        if obj.section:
            return f"{settings.SITE_NAME}: {obj.section.title}"
        return settings.SITE_NAME

    def link(self, obj: FeedScope) -> str:
        return absolute(obj.section.url if obj.section else "/")

    def feed_url(self, obj: FeedScope) -> str:
        return absolute(obj.feed_path) if obj.feed_path else ""

    def description(self, obj: FeedScope) -> str:
        if obj.section:
            return obj.section.intro or f"The latest {obj.section.title} articles"
        return f"The latest articles from {settings.SITE_NAME}"

    subtitle = description

    def items(self, obj: FeedScope) -> list[Any]:
        screen = anyone()
        # The body is read with the rows (a feed may carry it), not once per item.
        queryset = listing.articles(screen).defer(None).defer("body_text")
        if obj.section is not None:
            queryset = queryset.descendant_of(obj.section)
        items = list(queryset[: obj.limit])
        for item in items:  # one screen (one read of the restrictions) for the whole feed
            item.feed_screen = screen
        return items

    def item_title(self, item: Any) -> str:
        return f"{SPONSORED_LABEL}: {item.title}" if item.sponsored else item.title

    def item_description(self, item: Any) -> str:
        return render_to_string(
            "newsroom/feed_item.html",
            {"item": item, "full_body": self.full_body(item)},
        )

    def full_body(self, item: Any) -> list[Any] | None:
        """The body blocks a feed may carry, or None for standfirst only."""
        decision = peek(None, item, screen=getattr(item, "feed_screen", None))
        if not decision.free_for_everyone:
            return None
        return body_blocks(item, visible_blocks(_without_images(item), decision), {})

    def item_link(self, item: Any) -> str:
        return absolute(item.url)

    def item_pubdate(self, item: Any) -> Any:
        return item.first_published_at

    def item_updateddate(self, item: Any) -> Any:
        return item.updated_at or item.last_published_at

    def item_author_name(self, item: Any) -> str:
        return ", ".join(byline.author.title for byline in item.bylines.all())

    def item_categories(self, item: Any) -> list[str]:
        return [SPONSORED_LABEL] if item.sponsored else []


@dataclass(frozen=True)
class _TextBody:
    body: StreamValue


def _without_images(item: Any) -> _TextBody:
    """The article's body without its image blocks, which a feed does not show: resolving
    their images would cost a query per item."""
    stream = item.body
    kept = [raw for raw in stream.raw_data if raw.get("type") != "image"]
    return _TextBody(StreamValue(stream.stream_block, kept, is_lazy=True))


class AtomArticleFeed(ArticleFeed):
    feed_type = Atom1Feed


class PersonalArticleFeed(ArticleFeed):
    """One reader's private full-text RSS feed (decision 0031), reached through a personal
    token: the site's latest articles, each item cut where `access.decide` says, for the
    token's owner, at fetch time, without counting a read (`peek_for`). In full what they may
    read in full (a subscriber: everything; a registered reader: free articles); the preview
    blocks of the rest. Never shared: private, no-store, whatever the decisions were."""

    def __call__(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            item_count(request)
        except BadFeedParameter as exc:
            return mark_reader_dependent(listing.bad_request(request, str(exc)))
        response = Feed.__call__(self, request, *args, **kwargs)
        response["X-Robots-Tag"] = "noindex, nofollow"
        return mark_reader_dependent(response)

    def get_object(self, request: HttpRequest, reader: Any = None) -> FeedScope:  # type: ignore[override]
        return FeedScope(
            section=None,
            limit=item_count(request),
            feed_path=request.path,
            reader=reader,
        )

    def title(self, obj: FeedScope) -> str:
        return f"{settings.SITE_NAME}: your full-text feed"

    def description(self, obj: FeedScope) -> str:
        return f"The latest articles from {settings.SITE_NAME}, as your account reads them."

    subtitle = description

    def items(self, obj: FeedScope) -> list[Any]:
        items = super().items(obj)
        for item in items:
            item.feed_reader = obj.reader
        return items

    def item_description(self, item: Any) -> str:
        decision = peek_for(item.feed_reader, item, screen=getattr(item, "feed_screen", None))
        blocks = visible_blocks(_without_images(item), decision)
        return render_to_string(
            "newsroom/feed_item.html",
            {
                "item": item,
                "full_body": body_blocks(item, blocks, {}),
                "cut": not decision.full,
                "link": absolute(item.url),
            },
        )
