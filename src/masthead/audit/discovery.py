"""Doors the site shows: links on its pages, robots.txt, sitemaps, feeds, the OpenAPI document.

Discovery reads the site as a fresh anonymous reader, breadth first from the home page and the
well-known places, and keeps every same-site GET address it finds (query strings included, so
listing pages `?page=2` are walked). The OpenAPI document adds every GET path of the API, with
path parameters filled from the articles in the database.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import urljoin, urlparse, urlunparse

WELL_KNOWN = [
    "/",
    "/robots.txt",
    "/sitemap.xml",
    "/news-sitemap.xml",
    "/feeds/rss/",
    "/feeds/atom/",
    "/api/v1/openapi.json",
    "/search/",
]
# Never followed: the admin, sign-out and other side effects, static files.
SKIP = re.compile(
    r"^/(admin|django-admin|static|media|documents)/|logout|signout|sign-out|/checkout|/cancel"
    r"|\.(png|jpe?g|gif|webp|avif|svg|ico|css|js|woff2?|pdf)$",
    re.I,
)
_HREF = re.compile(r"""<(?:a|link|area)\b[^>]*?\bhref\s*=\s*["']([^"'#]+)""", re.I)
_LOC = re.compile(r"<loc>\s*([^<\s]+)\s*</loc>", re.I)
_RSS_LINK = re.compile(r"<link>\s*([^<\s]+)\s*</link>", re.I)
_ROBOTS_SITEMAP = re.compile(r"(?im)^\s*sitemap:\s*(\S+)")
_PARAM = re.compile(r"\{([^}]+)\}")

Fetch = Callable[[str], tuple[int, bytes, dict[str, str]]]


def links_in(body: str, base: str, headers: dict[str, str]) -> list[str]:
    found = _HREF.findall(body) + _LOC.findall(body) + _RSS_LINK.findall(body)
    found += _ROBOTS_SITEMAP.findall(body)
    if headers.get("location"):
        found.append(headers["location"])
    return [urljoin(base, link.replace("&amp;", "&")) for link in found]


def local_path(url: str, host: str) -> str | None:
    """The path (and query) of a same-site address, or None."""
    parts = urlparse(url)
    if parts.scheme not in ("http", "https", "") or (parts.hostname or host) != host:
        return None
    path = urlunparse(("", "", parts.path or "/", "", parts.query, ""))
    return None if SKIP.search(parts.path or "/") else path


def openapi_paths(document: Any, fill: dict[str, list[str]]) -> list[str]:
    """Every GET path of an OpenAPI document, path parameters filled from `fill`."""
    paths: list[str] = []
    for template, operations in (document.get("paths") or {}).items():
        if not isinstance(operations, dict) or "get" not in operations:
            continue
        names = _PARAM.findall(template)
        if not names:
            paths.append(template)
            continue
        values = next((fill[key] for key in fill if any(key in n for n in names)), [])
        paths += [_PARAM.sub(value, template) for value in values]
    return paths


def discover(
    fetch: Fetch,
    host: str,
    *,
    start: Iterable[str],
    fill: dict[str, list[str]],
    limit: int,
) -> tuple[list[str], list[str]]:
    """(every door found, problems) from a breadth-first walk of at most `limit` addresses."""
    queue = list(dict.fromkeys([*WELL_KNOWN, *start]))
    seen: set[str] = set(queue)
    found: list[str] = []
    problems: list[str] = []
    while queue and len(found) < limit:
        path = queue.pop(0)
        status, raw, headers = fetch(path)
        found.append(path)
        body = raw.decode("utf-8", "replace")
        more = [p for p in (local_path(u, host) for u in links_in(body, path, headers)) if p]
        if path.endswith("openapi.json"):
            try:
                document = json.loads(body)
            except ValueError:
                problems.append(f"{path} answered {status} without an OpenAPI document")
            else:
                more += openapi_paths(document, fill)
        for link in more:
            if link not in seen:
                seen.add(link)
                queue.append(link)
    if queue:
        problems.append(f"discovery stopped at {limit} addresses, {len(queue)} not read")
    return found, problems
