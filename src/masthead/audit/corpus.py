"""The articles as the audit knows them: their text, cut into shingles, block by block.

Which part of an article a persona may see is never decided here: `Expectations` asks
`masthead.access.decide` (with `consult_meter=False` for doors that only peek, as
`access.doors.peek` does) and keeps the blocks that decision lets through. Publication and
Wagtail's page privacy (password, login, groups) are part of that decision: the audit hands
`decide` the persona's privacy screen, built from a request that carries the persona's account
and no passed passwords (nobody in the audit knows a page password).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlparse

from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest

from masthead.access.decision import Decision, Level, decide
from masthead.access.privacy import Screen
from masthead.audit.personas import Persona
from masthead.audit.text import Shingle, all_shingles
from masthead.core import clock
from masthead.gifts.passes import GiftPass
from masthead.groups.passes import coverage_for
from masthead.newsroom.models import ArticlePage


def block_text(block: Any) -> str:
    value = block.value
    if block.block_type == "paragraph":
        return str(value.source if hasattr(value, "source") else value)
    if block.block_type == "pull_quote":
        return f"{value['quote']} {value.get('attribution') or ''}"
    if block.block_type == "image":
        return f"{value.get('caption') or ''} {value.get('credit') or ''}"
    return str(value)


@dataclass
class Article:
    page: Any
    path: str
    head: set[Shingle]  # title and standfirst: every door may show them
    blocks: list[set[Shingle]]
    live: bool
    restrictions: list[Any] = field(default_factory=list)

    @property
    def title(self) -> str:
        return str(self.page.title)

    def visible(self, blocks: int | None) -> set[Shingle]:
        shown = self.blocks if blocks is None else self.blocks[:blocks]
        return self.head.union(*shown)

    def hidden(self, blocks: int | None) -> set[Shingle]:
        return set() if blocks is None else set().union(*self.blocks[blocks:])


def load_articles() -> list[Article]:
    articles = []
    for page in ArticlePage.objects.specific().order_by("pk"):
        url = page.get_url() if page.live else None
        articles.append(
            Article(
                page=page,
                path=urlparse(url).path if url else "",
                head=all_shingles([page.title, page.standfirst or ""]),
                blocks=[all_shingles([block_text(b)]) for b in page.body],
                live=bool(page.live),
                restrictions=list(page.get_view_restrictions()),
            )
        )
    return articles


def screen_of(persona: Persona) -> Screen:
    """The privacy screen a request of `persona` has: their account, no page password passed."""
    request = HttpRequest()
    request.user = persona.user if persona.user is not None else AnonymousUser()
    request.session = {}  # type: ignore[assignment]
    return Screen(request)


def shown_blocks(
    article: Article, persona: Persona, *, reading: bool, gift: GiftPass | None = None
) -> int | None:
    """How many body blocks `persona` may see at a door (None: all of them), carrying `gift`."""
    decision: Decision = decide(
        persona.identity(),
        article.page,
        now=clock.now(),
        consult_meter=reading,
        screen=screen_of(persona),
        gift=gift,
        coverage=coverage_for(
            persona.user.pk if persona.user is not None else None, persona.address
        ),
    )
    if decision.level is Level.FULL:
        return None
    if decision.level in (Level.NONE, Level.HIDDEN):
        return 0
    return decision.preview_blocks or 0


class Expectations:
    """What one persona may see at each door, as shingles it must not find."""

    def __init__(self, persona: Persona, articles: list[Article], chrome: set[Shingle]) -> None:
        self.persona = persona
        self.articles = articles
        self.peek = {a.page.pk: shown_blocks(a, persona, reading=False) for a in articles}
        self.allowed = set(chrome).union(*(a.visible(self.peek[a.page.pk]) for a in articles))
        self.forbidden = {
            a.page.pk: sorted(a.hidden(self.peek[a.page.pk]) - self.allowed) for a in articles
        }

    def reading(
        self, article: Article, gift: GiftPass | None = None, *, counts: bool = True
    ) -> int | None:
        """Blocks shown where the meter counts (article page, print view, API with a token),
        or, with `counts=False`, where a door only peeks (the API without a token), carrying
        the gift link a door's address names."""
        return shown_blocks(article, self.persona, reading=counts, gift=gift)

    def for_door(
        self, reading: Article | None, blocks: int | None = None
    ) -> dict[int, list[Shingle]]:
        """Forbidden shingles per article at a door; `reading` is the article a reading door
        opens, `blocks` what `self.reading(article)` said for it just before the request."""
        if reading is None or blocks == self.peek[reading.page.pk]:
            return self.forbidden
        extra = reading.visible(blocks)
        doors = {pk: [s for s in found if s not in extra] for pk, found in self.forbidden.items()}
        doors[reading.page.pk] = sorted(reading.hidden(blocks) - self.allowed - extra)
        return doors
