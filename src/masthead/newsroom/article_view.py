"""The article page and its print view.

The access decision is made per request (through the doors); everything that does not depend
on the reader is rendered once into fragments kept in the shared cache, keyed by page id, live
revision and the number of visible blocks. A publish anywhere bumps a generation number stored
beside them, so related-article lists never go stale. For a URL the route table remembers, the
generation and the fragments arrive in one cache round trip and no page is loaded; see
docs/decisions/0004-article-page-caching.md.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlencode

from django.conf import settings
from django.core.cache import cache
from django.db.models import OuterRef, Subquery
from django.http import Http404, HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.templatetags.static import static
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe

from masthead.access.campaigns import active_campaign
from masthead.access.decision import Decision, Reason, free_for_everyone
from masthead.access.doors import (
    anyone,
    mark_reader_dependent,
    mark_shared,
    open_article,
    refuse_automated,
    visible_blocks,
)
from masthead.access.privacy import Screen
from masthead.core import clock
from masthead.core import generation as site_generation
from masthead.newsroom import images, routes, text

FRAGMENT_TIMEOUT = 24 * 3600
RELATED_COUNT = 4
PARTS = routes.FRAGMENT_PARTS
_JSON_ESCAPES = {ord("<"): "\\u003c", ord(">"): "\\u003e", ord("&"): "\\u0026"}
# Where the per-request parts go in a page shell; the per-process token keeps article text
# from ever posing as a slot.
_SLOT_TOKEN = secrets.token_hex(8)
SLOTS = {
    name: mark_safe(f"<!--masthead-slot:{_SLOT_TOKEN}:{name}-->")
    for name in ("banner", "meter", "paywall")
}


@dataclass
class BodyBlock:
    kind: str
    html: SafeString | str = ""
    text: str = ""
    image: images.ResponsiveImage | None = None
    caption: str = ""
    credit: str = ""
    attribution: str = ""


@dataclass
class ArticleData:
    """Everything the fragments show, gathered in a fixed number of queries."""

    page: Any
    root_url: str
    url: str
    section: Any
    authors: list[Any]
    tags: list[Any]
    related: list[Any]
    hero: images.ResponsiveImage | None
    blocks: list[BodyBlock] = field(default_factory=list)
    # The decision for nobody in particular: free or sponsored, for good (JSON-LD says so).
    free_for_everyone: bool = False

    @property
    def canonical(self) -> str:
        return f"{self.root_url}{self.url}"

    @property
    def published(self) -> Any:
        return self.page.first_published_at or self.page.latest_revision_created_at

    @property
    def updated(self) -> Any:
        page = self.page
        if page.updated_at and (not self.published or page.updated_at > self.published):
            return page.updated_at
        return None


def serve(
    request: HttpRequest, page: Any | routes.Found, *, print_view: bool = False
) -> HttpResponse:
    """Serve a page Wagtail routed, or a route remembered by the route table (`routes.Found`),
    which needs no page at all while its fragments are cached."""
    if isinstance(page, routes.Found):
        return _serve_remembered(request, page)
    routes.remember(request, page, print_view=print_view)
    decision = open_article(request, page)
    if decision.hidden:
        raise Http404("No such article.")
    blocks = visible_blocks(page, decision)
    if getattr(request, "is_preview", False) or page.pk is None:
        fragments = _render_parts(page, blocks, PARTS, anyone(request))
    else:
        keys = routes.fragment_keys(page.pk, page.live_revision_id, len(blocks))
        # Stamped with the generation read before Wagtail loaded the page, so a page loaded
        # before a concurrent publish is stamped with the old generation (and ignored).
        stamp = getattr(request, routes.REQUEST_GENERATION, None)
        fragments = _fragments(keys, {}, stamp, lambda: (page, blocks), anyone(request))
    shell = _render_shell(request, page, fragments, print_view=print_view)
    return _respond(request, page, decision, shell)


def _serve_remembered(request: HttpRequest, found: routes.Found) -> HttpResponse:
    route = found.route
    decision = open_article(request, route)
    if decision.hidden:
        raise Http404("No such article.")
    visible = len(visible_blocks(route, decision))
    routes.note_cut(visible, route.block_count)
    # A signed-out reader's shell is the same for everyone given the visible blocks: render
    # it once per process and generation.
    shared = not request.user.is_authenticated
    shell_key = routes.shell_key(route, visible)
    shell = routes.shell(shell_key, found.generation) if shared else None
    if shell is None:

        def load() -> tuple[Any, list[Any]]:
            from masthead.newsroom.models import ArticlePage

            page = ArticlePage.objects.get(pk=route.pk)
            return page, list(page.body)[:visible]

        keys = routes.fragment_keys(route.pk, route.live_revision_id, visible)
        fragments = _fragments(keys, found.prefetched, found.generation, load, anyone(request))
        shell = _render_shell(request, route, fragments, print_view=route.print_view)
        if shared:
            routes.keep_shell(shell_key, found.generation, shell)
    return _respond(request, route, decision, shell)


def _render_shell(
    request: HttpRequest, page: Any, fragments: dict[str, SafeString], *, print_view: bool
) -> str:
    """The whole page with a slot marker where each per-request part goes."""
    context = {
        "page": page,
        "self": page,
        "fragments": fragments,
        "slots": SLOTS,
        "print_view": print_view,
    }
    template = "newsroom/article_print.html" if print_view else "newsroom/article_page.html"
    return render_to_string(template, context, request=request)


def _respond(request: HttpRequest, page: Any, decision: Decision, shell: str) -> HttpResponse:
    """Fill the shell's slots for this request: campaign banner, meter message, paywall."""
    html = shell
    if SLOTS["banner"] in html:
        campaign = active_campaign(clock.now())
        banner = render_to_string("access/campaign_banner.html", {"active_campaign": campaign})
        html = html.replace(SLOTS["banner"], banner)
    meter = (
        render_to_string(
            "access/meter_message.html", {"decision": decision, "page": page}, request=request
        )
        if SLOTS["meter"] in html
        else ""
    )
    paywall = (
        ""
        if decision.full
        else render_to_string(
            "access/paywall.html", {"decision": decision, "page": page}, request=request
        )
    )
    html = html.replace(SLOTS["meter"], meter).replace(SLOTS["paywall"], paywall)
    response = HttpResponse(html)
    if decision.reason is Reason.AUTOMATED:  # the preview, with a 402 and the terms' link
        return refuse_automated(response)
    # A free article for a signed-out reader is the same for everyone, so caches may keep it;
    # the header of a signed-in reader's page shows their account, and previews are drafts.
    if (
        decision.reader_dependent
        or request.user.is_authenticated
        or getattr(request, "is_preview", False)
    ):
        return mark_reader_dependent(response)
    return mark_shared(response, decision)


def _fragments(
    keys: dict[str, str],
    prefetched: dict[str, Any],
    generation: int | None,
    load: Callable[[], tuple[Any, list[Any]]],
    shared: Screen,
) -> dict[str, SafeString]:
    """The cached fragments under `keys`, rendering (from `load()`'s page and visible blocks)
    and caching the ones missing or stamped with an older generation. Fragments are shared by
    every reader, so they are made through `shared`, the screen of nobody in particular."""
    found = dict(prefetched)
    to_read = [key for key in keys.values() if key not in found]
    if generation is None:
        generation, read = site_generation.read(to_read)
        found.update(read)
    elif to_read:
        found.update(cache.get_many(to_read))
    if generation is None:  # the shared store is down: render everything, keep nothing
        page, blocks = load()
        return _render_parts(page, blocks, PARTS, shared)
    fragments: dict[str, SafeString] = {}
    for part, key in keys.items():
        entry = found.get(key)
        if entry and entry[0] == generation:
            fragments[part] = mark_safe(entry[1])
    missing = [part for part in PARTS if part not in fragments]
    if missing:
        page, blocks = load()
        rendered = _render_parts(page, blocks, missing, shared)
        cache.set_many(
            {keys[part]: (generation, str(html)) for part, html in rendered.items()},
            FRAGMENT_TIMEOUT,
        )
        fragments.update(rendered)
    return fragments


def _render_parts(
    page: Any, blocks: list[Any], parts: Any, shared: Screen
) -> dict[str, SafeString]:
    data = gather(page, blocks, shared)
    context = {"article": data, "page": page, "share_links": share_links(data)}
    rendered = {
        part: mark_safe(render_to_string(f"newsroom/article/{part}.html", context))
        for part in parts
    }
    if "head" in rendered:
        rendered["head"] = mark_safe(rendered["head"] + json_ld_script(data))
    return rendered


def gather(page: Any, blocks: list[Any], shared: Screen | None = None) -> ArticleData:
    """Load what the article shows: a fixed number of queries however long it is.

    `shared` is the screen of nobody in particular (what these reader-independent fragments
    may name and claim); `doors.anyone()` when not given."""
    shared = shared or anyone()
    url_parts = page.get_url_parts()
    root_url, path = (url_parts[1], url_parts[2]) if url_parts else (settings.SITE_URL, "")
    section = page.get_parent().specific if page.pk else None
    image_ids = [page.hero_image_id]
    image_ids += [
        b.value["image"].pk for b in blocks if b.block_type == "image" and b.value["image"]
    ]
    found = images.fetch(image_ids, images.ARTICLE_SPECS)
    hero_image = found.get(page.hero_image_id)
    hero = (
        images.responsive(hero_image, images.ARTICLE_SPECS, page.hero_caption or page.title)
        if hero_image
        else None
    )
    return ArticleData(
        page=page,
        root_url=root_url,
        url=path,
        section=section,
        authors=[byline.author for byline in page.bylines.select_related("author")],
        tags=list(page.tags.all()),
        related=related_articles(page, section, shared) if section else [],
        hero=hero,
        blocks=body_blocks(page, blocks, found),
        free_for_everyone=free_for_everyone(page, screen=shared),
    )


def body_blocks(page: Any, blocks: list[Any], found: dict[int, Any]) -> list[BodyBlock]:
    prepared: list[BodyBlock] = []
    dateline_placed = not page.dateline
    for block in blocks:
        kind, value = block.block_type, block.value
        if kind == "paragraph":
            html = text.sanitize_html(value)
            if not dateline_placed:
                html = text.with_dateline(html, page.dateline)
                dateline_placed = True
            prepared.append(BodyBlock(kind, html=html))
        elif kind == "subheading":
            prepared.append(BodyBlock(kind, text=str(value)))
        elif kind == "pull_quote":
            prepared.append(
                BodyBlock(kind, text=value["quote"], attribution=value["attribution"] or "")
            )
        elif kind == "image":
            image = found.get(value["image"].pk) if value["image"] else None
            caption = value["caption"] or ""
            picture = images.responsive(image, images.ARTICLE_SPECS, caption) if image else None
            if picture:
                prepared.append(
                    BodyBlock(kind, image=picture, caption=caption, credit=value["credit"] or "")
                )
    if not dateline_placed and prepared:
        label = text.with_dateline("", page.dateline)
        prepared.insert(0, BodyBlock("paragraph", html=label))
    return prepared


def related_articles(page: Any, section: Any, screen: Screen) -> list[Any]:
    """Explicitly chosen articles first, then ones sharing a tag, then the same section.

    Cached for every reader, so only what `screen` (nobody in particular) may see is named."""
    from masthead.newsroom.models import ArticlePage, ArticleTag, RelatedArticle

    def live() -> Any:
        return (
            screen.readable(ArticlePage.objects.live())
            .exclude(pk=page.pk)
            .select_related("sponsor")
            .defer("body", "body_text")
        )

    links = RelatedArticle.objects.filter(article_id=page.pk)
    chosen = list(
        live()
        .filter(pk__in=links.values("target_id"))
        .annotate(
            link_order=Subquery(links.filter(target_id=OuterRef("pk")).values("sort_order")[:1])
        )
        .order_by("link_order")
    )
    seen = {item.pk for item in chosen}
    tag_ids = ArticleTag.objects.filter(content_object_id=page.pk).values("tag_id")
    by_tag = live().filter(tagged_items__tag_id__in=tag_ids).distinct()
    by_tag = by_tag.order_by("-first_published_at")[: RELATED_COUNT * 2]
    by_section = live().child_of(section).order_by("-first_published_at")
    related = list(chosen)
    for candidate in [*by_tag, *by_section[: RELATED_COUNT * 2]]:
        if len(related) >= RELATED_COUNT:
            break
        if candidate.pk not in seen:
            seen.add(candidate.pk)
            related.append(candidate)
    return related[:RELATED_COUNT]


def json_ld(data: ArticleData) -> dict[str, Any]:
    """schema.org NewsArticle: headline and standfirst only, never the body.

    `isAccessibleForFree` is the access decision for nobody in particular: true only when the
    article is free for everyone for good (free or sponsored; not a campaign's opening)."""
    page = data.page
    free = data.free_for_everyone
    root = data.root_url
    published = data.published
    modified = data.updated or published
    document: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "NewsArticle",
        "mainEntityOfPage": {"@type": "WebPage", "@id": data.canonical},
        "url": data.canonical,
        "headline": page.title,
        "description": page.standfirst,
        "author": [
            {"@type": "Person", "name": author.title, "url": author.full_url}
            for author in data.authors
        ],
        "publisher": {
            "@type": "NewsMediaOrganization",
            "name": settings.SITE_NAME,
            "url": f"{root}/",
            "logo": {"@type": "ImageObject", "url": f"{root}{static('masthead/logo.png')}"},
        },
        "isAccessibleForFree": free,
    }
    if published:
        document["datePublished"] = timezone.localtime(published).isoformat()
        document["dateModified"] = timezone.localtime(modified).isoformat()
    if data.section:
        document["articleSection"] = data.section.title
    if data.hero:
        document["image"] = [f"{root}{data.hero.src}"]
    if data.tags:
        document["keywords"] = [tag.name for tag in data.tags]
    if not free:
        document["hasPart"] = {
            "@type": "WebPageElement",
            "isAccessibleForFree": False,
            "cssSelector": ".article-body",
        }
    return document


def json_ld_script(data: ArticleData) -> str:
    payload = json.dumps(json_ld(data), ensure_ascii=False).translate(_JSON_ESCAPES)
    return f'<script type="application/ld+json">{payload}</script>\n'


def share_links(data: ArticleData) -> list[dict[str, str]]:
    """Plain links (no script) to share the article; the print link opens the print view."""
    url, title = data.canonical, data.page.title
    return [
        {
            "name": "facebook",
            "label": "Share on Facebook",
            "href": "https://www.facebook.com/sharer/sharer.php?" + urlencode({"u": url}),
        },
        {
            "name": "linkedin",
            "label": "Share on LinkedIn",
            "href": "https://www.linkedin.com/sharing/share-offsite/?" + urlencode({"url": url}),
        },
        {
            "name": "x",
            "label": "Share on X (Twitter)",
            "href": "https://twitter.com/intent/tweet?" + urlencode({"url": url, "text": title}),
        },
        {
            "name": "mail",
            "label": "Share by e-mail",
            "href": f"mailto:?subject={quote(title)}&body={quote(url)}",
        },
        {"name": "print", "label": "Print this article", "href": f"{data.url}print/"},
    ]
