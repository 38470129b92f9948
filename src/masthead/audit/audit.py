"""The paywall audit: walk every door of a running site as several readers and report any text
past the preview cut that reaches someone who may not read it.

It runs beside the site (same settings and database): the articles, and so the gated text, come
from the database; the responses come over HTTP from the running site, like any reader's.
"""

from __future__ import annotations

import html
import http.cookiejar
import json
import re
import urllib.error
import urllib.request
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from importlib import import_module
from typing import Any
from urllib.parse import urlencode, urljoin, urlparse

from django.conf import settings
from django.contrib.auth import get_user_model, login
from django.http import HttpRequest

from masthead.access.campaigns import active_campaign
from masthead.access.decision import is_free_for_everyone
from masthead.core import clock
from masthead.metering.policy import current_policy
from masthead.newsroom.models import AccessLevel, ArticlePage

GOOGLEBOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
READING_DOORS = {"article page", "print view", "api detail"}  # doors where a read may count
_TAG = re.compile(r"<[^>]+>")
_UNICODE_ESCAPE = re.compile(r"\\u([0-9a-fA-F]{4})")
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+")
_SPACE = re.compile(r"\s+")
MIN_WORDS = 6


def plain(text: str) -> str:
    """Text as a reader (or a scraper) would find it in HTML, XML, JSON or JSON-LD."""
    text = _UNICODE_ESCAPE.sub(lambda m: chr(int(m[1], 16)), text)
    for _ in range(2):  # feeds escape HTML inside XML
        text = html.unescape(_TAG.sub(" ", text))
    return _SPACE.sub(" ", text).strip().lower()


def block_text(block: Any) -> str:
    value = block.value
    if block.block_type == "paragraph":
        return str(value.source if hasattr(value, "source") else value)
    if block.block_type == "pull_quote":
        return f"{value['quote']} {value.get('attribution') or ''}"
    if block.block_type == "image":
        return f"{value.get('caption') or ''} {value.get('credit') or ''}"
    return str(value)


def sentences(text: str) -> list[str]:
    return [s for s in _SENTENCE_END.split(plain(text)) if len(s.split()) >= MIN_WORDS]


@dataclass
class Gated:
    """An article and the sentences only its full readers may see."""

    article: Any
    path: str
    sentences: list[str]


def gated_articles(preview_blocks: int) -> list[Gated]:
    found = []
    for article in ArticlePage.objects.live().public().specific().order_by("pk"):
        if is_free_for_everyone(article):
            continue
        blocks = list(article.body)
        allowed = plain(
            " ".join(
                [
                    article.title,
                    article.standfirst,
                    *(block_text(b) for b in blocks[:preview_blocks]),
                ]
            )
        )
        past_cut = [
            s
            for block in blocks[preview_blocks:]
            for s in sentences(block_text(block))
            if s not in allowed
        ]
        if past_cut:
            found.append(Gated(article, urlparse(article.get_url() or "").path, past_cut))
    return found


@dataclass
class Persona:
    name: str
    user_agent: str = "masthead-paywall-audit"
    extra_headers: dict[str, str] = field(default_factory=dict)
    fresh_each_time: bool = False  # a new, cookie-less reader for every request
    reads_everything: bool = False
    read: set[int] = field(default_factory=set)  # metered articles this persona has read
    jar: http.cookiejar.CookieJar = field(default_factory=http.cookiejar.CookieJar)

    def opener(self) -> urllib.request.OpenerDirector:
        jar = http.cookiejar.CookieJar() if self.fresh_each_time else self.jar
        return urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), _NoRedirect())

    def may_read(self, gated: Gated, door: str, *, allowance: int, campaign: Any) -> bool:
        article = gated.article
        if self.reads_everything or (campaign and campaign.opens(article)):
            return True
        if article.access_level != AccessLevel.METERED or door not in READING_DOORS:
            return False
        return (self.fresh_each_time and allowance > 0) or article.pk in self.read


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


class SiteUnreachable(Exception):
    pass


@dataclass
class Finding:
    door: str
    persona: str
    article: str
    url: str
    sentence: str

    def __str__(self) -> str:
        where = f"{self.door} as {self.persona}: {self.article} ({self.url})"
        return f"LEAK {where} shows {self.sentence!r}"


class Audit:
    def __init__(self, base_url: str, extra_doors: Iterable[str] = (), timeout: float = 10.0):
        self.base_url = base_url.rstrip("/")
        self.extra_doors = list(extra_doors)
        self.timeout = timeout
        self.findings: list[Finding] = []
        self.blind: list[str] = []
        self.responses = 0
        self.doors_seen: set[str] = set()

    # -- HTTP -------------------------------------------------------------------------------
    def fetch(self, persona: Persona, path: str) -> str | None:
        """The body at `path`, or None for a door this site does not have (4xx)."""
        url = urljoin(self.base_url + "/", path.lstrip("/"))
        request = urllib.request.Request(
            url, headers={"User-Agent": persona.user_agent, **persona.extra_headers}
        )
        try:
            with persona.opener().open(request, timeout=self.timeout) as response:
                self.responses += 1
                return response.read().decode("utf-8", "replace")
        except urllib.error.HTTPError as exc:
            self.responses += 1
            if exc.code >= 500:
                self.blind.append(f"{url} answered {exc.code}")
            return None
        except (urllib.error.URLError, OSError) as exc:
            raise SiteUnreachable(f"cannot reach {url}: {exc}") from exc

    # -- readers ----------------------------------------------------------------------------
    def signed_in(self, persona: Persona, user: Any) -> Persona:
        """Give the persona a real session for `user`, made by Django's own login()."""
        engine = import_module(settings.SESSION_ENGINE)
        request = HttpRequest()
        request.session = engine.SessionStore()
        request.COOKIES = {}
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        request.session.save()
        host = urlparse(self.base_url).hostname or "127.0.0.1"
        persona.jar.set_cookie(
            _cookie(settings.SESSION_COOKIE_NAME, request.session.session_key or "", host)
        )
        return persona

    def exhaust(self, persona: Persona, metered: list[Gated], allowance: int) -> None:
        for gated in metered[:allowance]:
            self.fetch(persona, gated.path)
            persona.read.add(gated.article.pk)

    # -- doors ------------------------------------------------------------------------------
    def article_doors(self, gated: Gated) -> Iterator[tuple[str, str]]:
        yield "article page", gated.path
        yield "print view", gated.path.rstrip("/") + "/print/"
        yield "api detail", f"/api/v1/articles/{gated.article.pk}"
        for template in self.extra_doors:
            yield (
                f"door {template}",
                template.format(id=gated.article.pk, slug=gated.article.slug, path=gated.path),
            )

    def site_doors(self, gated: list[Gated]) -> list[tuple[str, str]]:
        anonymous = Persona("discovery", fresh_each_time=True)
        pages = ["/", *{g.path.rstrip("/").rsplit("/", 1)[0] + "/" for g in gated}]
        doors: dict[str, str] = {}
        for page in pages:
            body = self.fetch(anonymous, page) or ""
            for href in re.findall(
                r'<link[^>]+type="application/(?:rss|atom)\+xml"[^>]*href="([^"]+)"', body
            ):
                doors[urlparse(href).path] = "feed"
        for path in ("/feeds/rss/", "/feeds/atom/"):
            doors.setdefault(path, "feed")
        for path in self.sitemaps(anonymous):
            doors[path] = "sitemap"
        return [(kind, path) for path, kind in doors.items()]

    def sitemaps(self, persona: Persona) -> list[str]:
        robots = self.fetch(persona, "/robots.txt") or ""
        queue = [urlparse(u).path for u in re.findall(r"(?im)^sitemap:\s*(\S+)", robots)]
        queue += ["/sitemap.xml", "/news-sitemap.xml"]
        seen: list[str] = []
        while queue:
            path = queue.pop(0)
            if path in seen:
                continue
            body = self.fetch(persona, path)
            if body is None:
                continue
            seen.append(path)
            if "<sitemapindex" in body:
                queue += [urlparse(u).path for u in re.findall(r"<loc>([^<]+)</loc>", body)]
        return seen

    def check(
        self,
        persona: Persona,
        door: str,
        url: str,
        body: str | None,
        gated: Iterable[Gated],
        allowance: int,
        campaign: Any,
    ) -> None:
        if body is None:
            return
        self.doors_seen.add(door)
        text = plain(_json_text(body))
        for item in gated:
            if persona.may_read(item, door, allowance=allowance, campaign=campaign):
                continue
            leaked = next((s for s in item.sentences if s in text), None)
            if leaked:
                self.findings.append(Finding(door, persona.name, item.article.title, url, leaked))

    # -- the walk ---------------------------------------------------------------------------
    def run(self) -> None:
        self.fetch(Persona("probe", fresh_each_time=True), "/")  # fails fast if the site is down
        policy = current_policy()
        campaign = active_campaign(clock.now())
        gated = gated_articles(policy.preview_blocks)
        if not gated:
            self.blind.append("no article has text past the preview cut: nothing to audit")
            return
        metered = [g for g in gated if g.article.access_level == AccessLevel.METERED]
        reader = _temporary_user("reader", staff=False)
        editor = _temporary_user("editor", staff=True)
        try:
            personas = [
                Persona("fresh anonymous reader", fresh_each_time=True),
                Persona("exhausted anonymous reader"),
                self.signed_in(Persona("exhausted registered reader"), reader),
                Persona(
                    "spoofed Googlebot",
                    user_agent=GOOGLEBOT,
                    extra_headers={"X-Forwarded-For": "66.249.66.1"},
                ),
                self.signed_in(Persona("editor", reads_everything=True), editor),
            ]
            allowances = {
                "exhausted anonymous reader": policy.anonymous_allowance,
                "spoofed Googlebot": policy.anonymous_allowance,
                "exhausted registered reader": policy.registered_allowance,
            }
            for persona in personas:
                if persona.name in allowances:
                    self.exhaust(persona, metered, allowances[persona.name])
            site_doors = self.site_doors(gated)
            for persona in personas:
                allowance = allowances.get(persona.name, policy.anonymous_allowance)
                for item in gated:
                    for door, path in self.article_doors(item):
                        body = self.fetch(persona, path)
                        self.check(persona, door, path, body, [item], allowance, campaign)
                        if persona.reads_everything and door == "article page":
                            self.see_gated_text(item, body)
                    query = " ".join(item.sentences[0].split()[:MIN_WORDS])
                    path = "/search/?" + urlencode({"q": query})
                    body = self.fetch(persona, path)
                    self.check(persona, "search", path, body, [item], allowance, campaign)
                    if (
                        body is not None
                        and not persona.may_read(
                            item, "search", allowance=allowance, campaign=campaign
                        )
                        and f'href="{item.path}"' in body
                    ):
                        self.findings.append(
                            Finding(
                                "search",
                                persona.name,
                                item.article.title,
                                path,
                                f"result for a phrase only in gated text: {query}",
                            )
                        )
                for door, path in site_doors:
                    self.check(
                        persona, door, path, self.fetch(persona, path), gated, allowance, campaign
                    )
        finally:
            reader.delete()
            editor.delete()

    def see_gated_text(self, item: Gated, body: str | None) -> None:
        """An editor must find the gated text: otherwise the audit could not see a leak either."""
        text = plain(body or "")
        if not any(s in text for s in item.sentences):
            self.blind.append(f"the editor does not see the gated text of {item.path}")


def _json_text(body: str) -> str:
    stripped = body.lstrip()
    if stripped.startswith(("{", "[")):
        try:
            return " ".join(_strings(json.loads(body)))
        except ValueError:
            return body
    return body


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def _cookie(name: str, value: str, host: str) -> http.cookiejar.Cookie:
    if "." not in host:
        host += ".local"  # how http.cookiejar names dotless hosts such as localhost
    return http.cookiejar.Cookie(
        0,
        name,
        value,
        None,
        False,
        host,
        False,
        False,
        "/",
        True,
        False,
        None,
        True,
        None,
        None,
        {},
    )


def _temporary_user(role: str, *, staff: bool) -> Any:
    import uuid

    email = f"paywall-audit-{role}-{uuid.uuid4().hex[:10]}@audit.invalid"
    user = get_user_model().objects.create_user(
        username=email, email=email, is_staff=staff, is_superuser=staff
    )
    user.set_unusable_password()
    user.save(update_fields=["password"])
    return user
