"""The paywall audit: read every door of a running site as every kind of reader and report any
gated text that reaches a reader who may not read it, and anything the audit could not see.

It runs beside the site (same settings and database): the articles, the readers and the access
decision come from the code and the database; the responses come over HTTP from the running
site, like any reader's. See docs/decisions/0015-paywall-audit-matching-and-doors.md.
"""

from __future__ import annotations

import http.cookiejar
import re
import urllib.error
import urllib.request
import uuid
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import quote, urlencode, urlparse

from django.conf import settings

from masthead.access.decision import Reason, decide
from masthead.audit.corpus import Article, Expectations, load_articles
from masthead.audit.discovery import discover
from masthead.audit.gift_doors import GiftDoor, give
from masthead.audit.personas import Cast, Persona
from masthead.audit.text import Page, Shingle, shingles_of
from masthead.core import clock
from masthead.metering.policy import current_policy, policy_for, strictest_preview
from masthead.newsroom.models import AuthorPage, SectionPage

_API_DETAIL = re.compile(r"^/api/v1/articles/(\d+)/?$")
_PLACEHOLDER = re.compile(r"\{(id|slug|path)\}")


class SiteUnreachable(Exception):
    pass


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # a 3xx is read like any other answer, body included


@dataclass(frozen=True)
class Finding:
    door: str
    persona: str
    article: str
    url: str
    status: int
    shingle: Shingle

    def __str__(self) -> str:
        where = f"{self.door} as {self.persona}: {self.article} ({self.url}, {self.status})"
        return f"LEAK {where} shows {' '.join(self.shingle)!r}"


class Audit:
    def __init__(
        self,
        base_url: str,
        extra_doors: Iterable[str] = (),
        *,
        timeout: float = 10.0,
        max_pages: int = 2000,
        personas: Iterable[str] = (),
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.host = urlparse(self.base_url).hostname or "127.0.0.1"
        self.extra_doors = list(extra_doors)
        self.timeout = timeout
        self.max_pages = max_pages
        self.only_personas = set(personas)
        self.findings: list[Finding] = []
        self.blind: list[str] = []
        self.reads: Counter[tuple[str, str]] = Counter()
        self.responses = 0
        self.cast: Cast | None = None
        self.personas: list[str] = []
        self._overrides: dict[str, str] = {}
        self._gift_doors: dict[str, GiftDoor] = {}

    # -- HTTP -------------------------------------------------------------------------------
    def request(self, persona: Persona, path: str) -> tuple[int, bytes, dict[str, str]]:
        """Status, raw body and headers of one GET; every status is read, body included."""
        url = self.base_url + (path if path.startswith("/") else "/" + path)
        jar = http.cookiejar.CookieJar() if persona.fresh_each_time else persona.jar
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), _NoRedirect)
        headers = {"User-Agent": persona.user_agent, "Accept": "*/*", **persona.headers}
        try:
            with opener.open(
                urllib.request.Request(url, headers=headers), timeout=self.timeout
            ) as r:
                status, raw, head = r.status, r.read(), r.headers
        except urllib.error.HTTPError as exc:
            status, raw, head = exc.code, exc.read(), exc.headers
        except (urllib.error.URLError, OSError) as exc:
            raise SiteUnreachable(f"cannot reach {url}: {exc}") from exc
        self.responses += 1
        if self.cast is not None and head is not None:
            for header in head.get_all("Set-Cookie") or []:
                cookie = SimpleCookie(header)
                if settings.READER_COOKIE_NAME in cookie:
                    self.cast.saw_cookie(cookie[settings.READER_COOKIE_NAME].value)
        if status >= 500:
            self.blind.append(f"{path} answered {status} to {persona.name}")
        return status, raw, {k.lower(): v for k, v in (head or {}).items()}

    # -- doors ------------------------------------------------------------------------------
    def door_of(self, path: str) -> tuple[str, Article | None]:
        """The kind of door at `path`, and the article it opens for reading, if any."""
        bare = path.split("?", 1)[0]
        if path in self._gift_doors:
            return self._gift_doors[path].kind, self._gift_doors[path].article
        if path in self._overrides:
            return self._overrides[path], self._reading_at(bare)
        if bare in self.by_path:
            return "article page", self.by_path[bare]
        if bare.endswith("/print/") and bare[: -len("print/")] in self.by_path:
            return "print view", self.by_path[bare[: -len("print/")]]
        match = _API_DETAIL.match(bare)
        if match:
            return "api detail", self.by_pk.get(int(match[1]))
        if bare == "/":
            return "home", None
        for kind, prefixes in self.listings.items():
            if bare in prefixes:
                return kind, None
        for kind, test in (
            ("tag", lambda p: p.startswith("/tags/")),
            ("search", lambda p: p.startswith("/search/")),
            ("personal feed", lambda p: p.startswith("/feeds/private/")),
            ("feed", lambda p: p.startswith("/feeds/") or p.endswith(("/rss/", "/atom/"))),
            ("robots", lambda p: p == "/robots.txt"),
            ("openapi", lambda p: p.endswith("openapi.json")),
            ("sitemap", lambda p: p.endswith(".xml")),
            ("api", lambda p: p.startswith("/api/")),
        ):
            if test(bare):
                return kind, None
        return "page", None

    def _reading_at(self, bare: str) -> Article | None:
        return self.by_path.get(bare) or self.by_path.get(bare.removesuffix("print/"))

    def article_doors(self, articles: list[Article]) -> list[str]:
        doors: list[str] = []
        for article in articles:
            if article.path:
                doors += [article.path, article.path.rstrip("/") + "/print/"]
            doors.append(f"/api/v1/articles/{article.page.pk}")
            for template in self.extra_doors:
                if _PLACEHOLDER.search(template):
                    if not article.path:
                        continue
                    door = template.format(
                        id=article.page.pk, slug=article.page.slug, path=article.path
                    )
                    self._overrides[door] = f"door {template}"
                    doors.append(door)
        return doors

    # -- checks -----------------------------------------------------------------------------
    def check(
        self,
        persona: Persona,
        expect: Expectations,
        path: str,
        *,
        search_for: Article | None = None,
        query: Shingle = (),
    ) -> None:
        if persona.only and not path.startswith(persona.only):
            return
        door, reading = self.door_of(path)
        gift_door = self._gift_doors.get(path)
        if door == "api detail" and not persona.token:
            reading = None  # without a token the API only peeks (see api.get_article)
        if gift_door is not None:
            # The gift's decision: a reading door, or (the API without a token) a peek.
            peeks = gift_door.api and not persona.token
            blocks = expect.reading(gift_door.article, gift_door.gift, counts=not peeks)
        else:
            blocks = expect.reading(reading) if reading is not None else None
        status, raw, _ = self.request(persona, path)
        self.reads[(persona.name, door)] += 1
        page = Page(raw, mask=query)
        forbidden = expect.for_door(reading, blocks)
        for article in self.articles:
            leaked = page.first_of(forbidden[article.page.pk])
            if leaked:
                self.findings.append(
                    Finding(door, persona.name, article.title, path, status, leaked)
                )
        full_text_door = door == "article page" or (gift_door is not None and not gift_door.api)
        if reading is not None and blocks is None and full_text_door and status == 200:
            beyond = self.beyond_cut[reading.page.pk]
            if beyond and page.first_of(beyond) is None:
                self.blind.append(
                    f"access.decide lets {persona.name} read {reading.title!r} in full, but "
                    f"{path} ({status}) shows none of its text past the cut"
                )
        if search_for is not None and re.search(
            rf"""href=["'][^"']*{re.escape(search_for.path)}["']""", raw.decode("utf-8", "replace")
        ):
            self.findings.append(
                Finding(
                    "search",
                    persona.name,
                    search_for.title,
                    path,
                    status,
                    ("<result", "for", "a", "phrase", "only", "in", "gated", "text>"),
                )
            )

    # -- the walk ---------------------------------------------------------------------------
    def run(self) -> None:
        self.cast = None
        probe = Persona("probe", fresh_each_time=True)
        self.request(probe, "/")  # fails fast when the site is down
        policy = current_policy()
        self.articles = load_articles()
        self.by_path = {a.path: a for a in self.articles if a.path}
        self.by_pk = {a.page.pk: a for a in self.articles}
        self.listings = {
            "section": {urlparse(p.get_url() or "").path for p in SectionPage.objects.live()},
            "author": {urlparse(p.get_url() or "").path for p in AuthorPage.objects.live()},
        }
        # With a preview split test running, the shortest preview any reader is shown.
        cut = strictest_preview(policy)
        self.cast = cast = Cast(self.base_url)
        try:
            personas = cast.build()
            unknown = self.only_personas - {p.name for p in personas} - set(cast.missing)
            if unknown:
                self.blind.append(f"no persona named {', '.join(sorted(unknown))}")
            if self.only_personas:
                personas = [p for p in personas if p.name in self.only_personas]
            self.personas = [p.name for p in personas]
            for missing in cast.missing:
                if self.only_personas and missing not in self.only_personas:
                    continue
                self.blind.append(
                    f"no reader is a {missing}: the audit cannot read as one "
                    "(`masthead demo` makes one of each)"
                )
            fresh = Persona("discovery", fresh_each_time=True)
            missing_page = f"/paywall-audit-{uuid.uuid4().hex}/"
            chrome = shingles_of(self.request(fresh, missing_page)[1].decode("utf-8", "replace"))
            self.beyond_cut = {
                a.page.pk: sorted(a.hidden(cut) - a.visible(cut) - chrome) for a in self.articles
            }
            if not any(self.beyond_cut.values()):
                self.blind.append("no article has text past the preview cut: nothing to audit")
                return
            start = [d for d in self.extra_doors if not _PLACEHOLDER.search(d)]
            for door in start:
                self._overrides[door] = f"door {door}"
            live = [a for a in self.articles if a.live and a.path]
            found, problems = discover(
                lambda path: self.request(fresh, path),
                self.host,
                start=start,
                fill={
                    "id": [str(a.page.pk) for a in live],
                    "slug": [quote(str(a.page.slug)) for a in live],
                },
                limit=self.max_pages,
            )
            self.blind += problems
            self.coverage(found)
            self._gift_doors = dict(give(cast.staff_user, self.articles)) if cast.staff_user else {}
            if not self._gift_doors:
                self.blind.append("fewer than two gated articles: no gift link was audited")
            doors = list(
                dict.fromkeys([*found, *self.article_doors(self.articles), *self._gift_doors])
            )
            for persona in personas:
                self.exhaust(persona, live)
            for persona in personas:
                expect = Expectations(persona, self.articles, chrome)
                for path in [*doors, *persona.doors]:
                    self.check(persona, expect, path)
                for article in self.articles:
                    for phrase in search_phrases(article, expect):
                        path = "/search/?" + urlencode({"q": " ".join(phrase)})
                        self.check(persona, expect, path, search_for=article, query=phrase)
        finally:
            cast.close()

    def exhaust(self, persona: Persona, live: list[Article]) -> None:
        """Spend the persona's meter on metered articles, through the door it reads by."""
        if not persona.exhaust:
            return
        reader, now = persona.identity(), clock.now()
        allowance = policy_for(reader.split_key).allowance_for(registered=persona.registered)
        metered = [  # articles where, says access.decide, reading would count
            a
            for a in live
            if not a.restrictions
            and decide(reader, a.page, now=now, consult_meter=False).reason is Reason.METERED
        ]
        if len(metered) < allowance:
            self.blind.append(
                f"{persona.name} cannot be exhausted: {len(metered)} metered article(s) for an "
                f"allowance of {allowance}"
            )
        for article in metered[:allowance]:
            path = (
                article.path if persona.exhaust == "page" else f"/api/v1/articles/{article.page.pk}"
            )
            self.request(persona, path)
            self.reads[(persona.name, "meter spending")] += 1
        expect = Expectations(persona, [], set())
        unread = metered[allowance:]
        if unread and expect.reading(unread[0]) is None:
            self.blind.append(
                f"{persona.name} is not exhausted after {allowance} read(s): access.decide "
                f"still lets it read {unread[0].title!r} (did the site see its credentials?)"
            )

    def coverage(self, found: list[str]) -> None:
        """Every kind of door the site has must have been found, or the audit is blind to it."""
        from masthead.newsroom.models import ArticleTag

        kinds = {self.door_of(path)[0] for path in found}
        needed = {"home", "article page", "feed", "sitemap", "openapi", "api detail"}
        if self.listings["section"]:
            needed.add("section")
        if self.listings["author"]:
            needed.add("author")
        if ArticleTag.objects.exists():
            needed.add("tag")
        for kind in sorted(needed - kinds):
            self.blind.append(f"discovery found no {kind} door on the site")


def search_phrases(article: Article, expect: Expectations) -> list[Shingle]:
    """Phrases only the gated text has, from the first and the last gated block: a search
    result for one is a search oracle (an index that keeps more than the preview)."""
    shown = expect.peek[article.page.pk]
    if shown is None or not article.path:
        return []
    forbidden = set(expect.forbidden[article.page.pk])
    phrases = [min(found) for block in article.blocks[shown:] if (found := block & forbidden)]
    return list(dict.fromkeys(phrases[:1] + phrases[-1:]))
