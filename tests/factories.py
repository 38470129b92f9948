"""Builders for the page tree and readers, through the real models (shared by every test)."""

from __future__ import annotations

import itertools
from typing import Any

from django.contrib.auth import get_user_model
from wagtail.models import Page, Site

from masthead.newsroom.models import (
    AccessLevel,
    ArticleByline,
    ArticlePage,
    AuthorIndexPage,
    AuthorPage,
    HomePage,
    SectionPage,
)

_counter = itertools.count(1)


def home_page() -> HomePage:
    """The site's HomePage, created (and made the default site's root) on first use."""
    existing = HomePage.objects.first()
    if existing:
        return existing
    root = Page.get_first_root_node() or _wagtail_root()
    home = root.add_child(instance=HomePage(title="The Meridian Review", slug="meridian-home"))
    site = Site.objects.filter(is_default_site=True).first()
    if site:
        site.root_page = home
        site.hostname = "localhost"
        site.save()
    else:
        Site.objects.create(hostname="localhost", root_page=home, is_default_site=True)
    # The Wagtail install's welcome page is not part of a newsroom.
    Page.objects.filter(depth=2).exclude(pk=home.pk).delete()
    return home


def _wagtail_root() -> Page:
    """Transactional tests flush Wagtail's root page and locale (they come from its data
    migrations); put them back so later tests can build pages."""
    from wagtail.models import Locale

    locale, _ = Locale.objects.get_or_create(language_code="en")
    return Page.add_root(instance=Page(title="Root", slug="root", locale=locale))


def section(title: str = "World") -> SectionPage:
    home = home_page()
    found = SectionPage.objects.filter(title=title).first()
    return found or home.add_child(instance=SectionPage(title=title, intro=f"{title} news"))


def author(name: str = "Ana Petrova") -> AuthorPage:
    home = home_page()
    index = AuthorIndexPage.objects.first() or home.add_child(
        instance=AuthorIndexPage(title="Authors", slug="authors")
    )
    found = AuthorPage.objects.filter(title=name).first()
    return found or index.add_child(instance=AuthorPage(title=name, role="Correspondent"))


def paragraphs(count: int, prefix: str = "Paragraph") -> list[tuple[str, Any]]:
    return [("paragraph", f"<p>{prefix} {n} of the body.</p>") for n in range(1, count + 1)]


def article(
    title: str | None = None,
    *,
    access_level: str = AccessLevel.METERED,
    section_title: str = "World",
    body: list[tuple[str, Any]] | None = None,
    authors: list[str] | None = None,
    publish: bool = True,
    **fields: Any,
) -> ArticlePage:
    number = next(_counter)
    title = title or f"Test article {number}"
    page = ArticlePage(
        title=title,
        slug=f"test-article-{number}",
        standfirst=fields.pop("standfirst", f"Standfirst of {title}."),
        access_level=access_level,
        body=body if body is not None else paragraphs(6, prefix=f"{title} paragraph"),
        live=publish,
        **fields,
    )
    section(section_title).add_child(instance=page)
    for order, name in enumerate(authors or ["Ana Petrova"]):
        ArticleByline.objects.create(article=page, author=author(name), sort_order=order)
    revision = page.save_revision()
    if publish:
        revision.publish()
        page.refresh_from_db()
    return page


def user(
    email: str | None = None,
    *,
    staff: bool = False,
    password: str = "correct-horse-42",
    verified: bool | None = True,
):
    """A reader whose address is verified (what a card-less trial needs); `verified=False`
    for an unverified primary address, `None` for no allauth address row at all."""
    from allauth.account.models import EmailAddress

    email = email or f"reader{next(_counter)}@example.com"
    User = get_user_model()
    created = User.objects.create_user(
        username=email, email=email, password=password, is_staff=staff, is_superuser=staff
    )
    if verified is not None:
        EmailAddress.objects.create(user=created, email=email, primary=True, verified=verified)
    return created
