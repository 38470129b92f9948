"""The demo newsroom: a fictional publication with original articles, authors and images.

`load()` is idempotent: everything is looked up by a stable key (slug, title, e-mail) and only
created when missing, so a second run changes nothing.
"""

from __future__ import annotations

import io
import os
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.files.images import ImageFile
from django.db import transaction
from django.utils.html import escape
from django.utils.text import slugify
from wagtail.coreutils import get_supported_content_language_variant
from wagtail.images import get_image_model
from wagtail.models import Collection, Locale, Page, Site

from masthead.core import clock
from masthead.newsroom import demo_copy, demo_pictures
from masthead.newsroom.editors import make_editor
from masthead.newsroom.models import (
    ArticleByline,
    ArticlePage,
    AuthorIndexPage,
    AuthorPage,
    HomePage,
    RelatedArticle,
    SectionPage,
    Sponsor,
)

EDITOR_EMAIL = "editor@meridian.example"
EDITOR_PASSWORD = "meridian-editor-2026"


def demo_address() -> tuple[str, int]:
    """Where `masthead demo` serves (HOST and PORT, as `masthead serve` reads them)."""
    port = os.environ.get("PORT", "8000")
    # A malformed PORT is refused by `masthead serve` with a usage error; the content loads.
    return os.environ.get("HOST", "127.0.0.1"), int(port) if port.isdigit() else 8000


def load() -> list[str]:
    with transaction.atomic():
        home = _home()
        sections = {title: _section(home, title, intro) for title, intro in demo_copy.SECTIONS}
        authors = _authors(home)
        sponsor, _ = Sponsor.objects.get_or_create(
            name=demo_copy.SPONSOR["name"],
            defaults={
                "url": demo_copy.SPONSOR["url"],
                "disclosure": demo_copy.SPONSOR["disclosure"],
            },
        )
        analysis = _analysis(sections, authors)
        for row in demo_copy.ARTICLES:
            _short_article(row, sections, authors, sponsor)
        _link_related(analysis)
        if home.top_story_id is None:
            home.top_story = analysis
            home.save_revision().publish()
        editor = _editor(home)
    host, port = demo_address()
    return [
        f"Newsroom: {ArticlePage.objects.live().count()} articles in "
        f"{SectionPage.objects.live().count()} sections",
        f"Editor login: {editor.email} / {EDITOR_PASSWORD} at http://{host}:{port}/admin/",
    ]


def _home() -> HomePage:
    home = HomePage.objects.first()
    if home is None:
        root = _tree_root()
        # The Wagtail install's welcome page is not part of a newsroom.
        Page.objects.filter(depth=2, content_type__model="page").delete()
        home = root.add_child(
            instance=HomePage(
                title=settings.SITE_NAME,
                slug="home",
                tagline="Independent reporting on diplomacy, business and technology",
            )
        )
    site = Site.objects.filter(is_default_site=True).first() or Site(is_default_site=True)
    host, port = demo_address()
    if (site.hostname, site.port, site.root_page_id) != (host, port, home.pk):
        site.hostname, site.port, site.root_page = host, port, home
        site.site_name = settings.SITE_NAME
        site.save()
    return home


def _tree_root() -> Page:
    """Wagtail's migrations make the default locale, page root and collection root; a flushed
    database (transactional test runs) has none, so the demo makes what is missing."""
    Locale.objects.get_or_create(
        language_code=get_supported_content_language_variant(settings.LANGUAGE_CODE)
    )
    if Collection.get_first_root_node() is None:
        Collection.add_root(name="Root")
    return Page.get_first_root_node() or Page.add_root(title="Root", slug="root")


def _section(home: HomePage, title: str, intro: str) -> SectionPage:
    found = SectionPage.objects.child_of(home).filter(slug=slugify(title)).first()
    if found:
        return found
    return home.add_child(instance=SectionPage(title=title, slug=slugify(title), intro=intro))


def _authors(home: HomePage) -> dict[str, AuthorPage]:
    index = AuthorIndexPage.objects.first() or home.add_child(
        instance=AuthorIndexPage(title="Our writers", slug="authors")
    )
    authors = {}
    for name, role, bio in demo_copy.AUTHORS:
        found = AuthorPage.objects.filter(slug=slugify(name)).first()
        authors[name] = found or index.add_child(
            instance=AuthorPage(title=name, slug=slugify(name), role=role, bio=f"<p>{bio}</p>")
        )
    return authors


def _image(title: str, scene: str) -> Any:
    """A picture of `scene` drawn locally (newsroom.demo_pictures)."""
    Image = get_image_model()
    found = Image.objects.filter(title=title).first()
    if found:
        return found
    buffer = io.BytesIO()
    demo_pictures.draw(scene).save(buffer, "JPEG", quality=82)
    return Image.objects.create(
        title=title,
        file=ImageFile(buffer, name=f"{slugify(title)}.jpg"),
        focal_point_x=800,
        focal_point_y=500,
        focal_point_width=600,
        focal_point_height=400,
    )


def _create_article(
    section: SectionPage,
    *,
    slug: str,
    authors: list[AuthorPage],
    hours_ago: int,
    tags: list[str],
    **fields: Any,
) -> ArticlePage:
    found = ArticlePage.objects.filter(slug=slug).first()
    if found:
        return found
    published = clock.now() - timedelta(hours=hours_ago)
    page = ArticlePage(slug=slug, first_published_at=published, **fields)
    section.add_child(instance=page)
    for author in authors:
        ArticleByline.objects.create(article=page, author=author)
    page.tags.add(*tags)
    page.save()
    page.save_revision().publish()
    return page


def _paragraph(text: str) -> tuple[str, str]:
    return ("paragraph", f"<p>{escape(text)}</p>")


def _analysis(sections: dict[str, SectionPage], authors: dict[str, AuthorPage]) -> ArticlePage:
    spec = demo_copy.ANALYSIS
    title, _top, _bottom = spec["hero"]
    body = [
        _paragraph(value) if kind == "paragraph" else (kind, value) for kind, value in spec["body"]
    ]
    return _create_article(
        sections[spec["section"]],
        slug=spec["slug"],
        authors=[authors[name] for name in spec["authors"]],
        hours_ago=spec["hours_ago"],
        tags=spec["tags"],
        title=spec["title"],
        standfirst=spec["standfirst"],
        dateline=spec["dateline"],
        access_level=spec["access_level"],
        hero_image=_image(title, demo_copy.ANALYSIS_PICTURE),
        hero_caption=spec["hero_caption"],
        hero_credit=spec["hero_credit"],
        body=body,
    )


def _short_article(
    row: tuple[Any, ...],
    sections: dict[str, SectionPage],
    authors: dict[str, AuthorPage],
    sponsor: Sponsor,
) -> ArticlePage:
    (slug, section, title, standfirst, author, access, tags, hours, paragraphs, dateline,
     colours, quote) = row  # fmt: skip
    more = demo_copy.MORE_PARAGRAPHS.get(slug, [])
    body: list[tuple[str, Any]] = [_paragraph(text) for text in [*paragraphs, *more]]
    if quote:
        body.insert(2, ("pull_quote", {"quote": quote[0], "attribution": quote[1]}))
    sponsored = slug == demo_copy.SPONSORED_SLUG
    picture = demo_copy.PICTURES.get(slug) if colours else None
    return _create_article(
        sections[section],
        slug=slug,
        authors=[authors[author]],
        hours_ago=hours,
        tags=tags,
        title=title,
        standfirst=standfirst,
        dateline=dateline or "",
        access_level=access,
        hero_image=_image(title, picture[0]) if picture else None,
        hero_caption=picture[1] if picture else "",
        hero_credit="Drawing: Meridian Graphics" if picture else "",
        sponsored=sponsored,
        sponsor=sponsor if sponsored else None,
        body=body,
    )


def _link_related(analysis: ArticlePage) -> None:
    """The analysis piece names its related reading explicitly (the rest fall back by tag)."""
    if analysis.related.exists():
        return
    for slug in ("opinion-patience-is-not-a-policy", "ferry-route-reopens-after-three-years"):
        RelatedArticle.objects.create(article=analysis, target=ArticlePage.objects.get(slug=slug))
    # Publish again so the live revision (what editors open) includes the links.
    analysis.save_revision().publish()


def _editor(home: HomePage) -> Any:
    User = get_user_model()
    editor = User.objects.filter(email=EDITOR_EMAIL).first()
    if editor is None:
        editor = User.objects.create_user(
            username=EDITOR_EMAIL,
            email=EDITOR_EMAIL,
            password=EDITOR_PASSWORD,
            first_name="Demo",
            last_name="Editor",
        )
    if not editor.is_staff or not editor.groups.filter(name="Editors").exists():
        make_editor(editor, home)
    return editor
