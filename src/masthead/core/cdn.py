"""Who may keep a response: the one policy for shared caches (a CDN, nginx, Varnish) and browsers.

Two verdicts, and nothing in between:

- `mark_shared(response, decision)`: the response is the same for every signed-out reader (a
  free article, a listing, a feed, a sitemap, robots.txt, the API's lists), so it is sent
  `public, max-age=<browser>, s-maxage=<shared cache>, stale-while-revalidate=<window>` (the
  `MASTHEAD_CACHE_*` settings). It refuses, and marks the response private instead, when the
  access decision given depends on the reader, when the response sets a cookie, or when
  something already marked it private: a verdict of "private" is never undone.
- `mark_private(response)`: the response is this reader's: `private, no-store` and
  `Vary: Cookie`; every directive that would let a cache keep it (public, max-age, s-maxage,
  stale-while-revalidate) is removed.

Doors call these where they decide (the article page with its access decision, the listing
doors after the privacy screen, feeds, sitemaps, the API), never by URL pattern; a WSGI fast
path can call the same functions with the same decision. `SharedCacheGuard` is the last word
on the way out: a response that sets a cookie (session, CSRF, the meter's reader cookie) is
never public, whatever the view said.

Purges go through Wagtail's frontend cache invalidation (`WAGTAILFRONTENDCACHE`, configured
from `MASTHEAD_PURGE_URL`); `PurgeBackend` is its HTTP backend with a timeout, and it logs one
line when the purge endpoint is down instead of one per URL. See
docs/decisions/0026-cdn-cache-control-and-purges.md.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any, Protocol
from urllib.error import HTTPError, URLError
from urllib.request import urlopen

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.cache import patch_cache_control, patch_vary_headers
from wagtail.contrib.frontend_cache.backends.http import HTTPBackend, PurgeRequest

log = logging.getLogger("masthead.cdn")

# Directives that let some cache keep a response: never beside `private, no-store`.
_KEEPING = ("public", "max-age", "s-maxage", "stale-while-revalidate", "stale-if-error")


class Verdict(Protocol):
    """What `mark_shared` reads of an access decision (`masthead.access.decision.Decision`)."""

    @property
    def reader_dependent(self) -> bool: ...


def shared_cache_control() -> str:
    """The Cache-Control value of a response every signed-out reader shares."""
    return (
        f"public, max-age={settings.CACHE_MAX_AGE}, s-maxage={settings.CACHE_S_MAXAGE}, "
        f"stale-while-revalidate={settings.CACHE_STALE_WHILE_REVALIDATE}"
    )


def _directives(response: HttpResponse) -> list[str]:
    return [d.strip() for d in response.get("Cache-Control", "").split(",") if d.strip()]


def is_private(response: HttpResponse) -> bool:
    found = {d.split("=")[0].lower() for d in _directives(response)}
    return bool(found & {"private", "no-store", "no-cache"})


def sets_cookie(response: HttpResponse) -> bool:
    return bool(response.cookies)


def is_public(response: HttpResponse) -> bool:
    return any(d.split("=")[0].lower() in {"public", "s-maxage"} for d in _directives(response))


def mark_private(response: HttpResponse) -> HttpResponse:
    """This reader's response: no shared cache may keep it, and no browser either (no-store:
    Back after signing out asks the server again)."""
    patch_cache_control(response, private=True, no_store=True)
    kept = [d for d in _directives(response) if not d.lower().startswith(_KEEPING)]
    response["Cache-Control"] = ", ".join(kept)
    patch_vary_headers(response, ["Cookie"])
    return response


def mark_shared(response: HttpResponse, decision: Verdict | None = None) -> HttpResponse:
    """A response every signed-out reader shares: public, with the shared-cache lifetimes.

    `decision` is the access decision the door made for this response, if any; a decision
    that depends on the reader makes the response private instead. Only a 200 is marked (an
    error or a redirect keeps what it has), and a response already private, or setting a
    cookie, is never made public."""
    if decision is not None and decision.reader_dependent:
        return mark_private(response)
    if response.status_code != 200 or is_private(response):
        return response
    if sets_cookie(response):
        return mark_private(response)
    response["Cache-Control"] = shared_cache_control()
    return response


def guard(response: HttpResponse) -> HttpResponse:
    """The last check on the way out: a public response that sets a cookie is made private."""
    if sets_cookie(response) and not is_private(response):
        mark_private(response)
    return response


class SharedCacheGuard:
    """Middleware placed outside every middleware that may set a cookie (sessions, CSRF, the
    reader identity), so it sees the response as it leaves: see `guard`."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return guard(self.get_response(request))


class PurgeBackend(HTTPBackend):  # type: ignore[misc]
    """Wagtail's HTTP purge backend (a PURGE request per URL, to LOCATION, with the URL's Host)
    with a timeout, and one log line when the endpoint cannot be reached: the remaining URLs
    of the batch are not tried (shared caches drop them after s-maxage)."""

    def __init__(self, params: dict[str, Any]) -> None:
        self.timeout = float(params.pop("TIMEOUT", 5))
        self.location = params.get("LOCATION", "")
        super().__init__(params)

    def _send(self, url: str) -> None:
        from urllib.parse import urlsplit, urlunsplit

        parts = urlsplit(url)
        host = parts.hostname or ""
        if parts.port:
            host += f":{parts.port}"
        target = urlunsplit(
            [self.cache_scheme, self.cache_netloc, parts.path, parts.query, parts.fragment]
        )
        request = PurgeRequest(url=target, headers={"Host": host, "User-Agent": "Masthead-purge"})
        try:
            with urlopen(request, timeout=self.timeout):
                pass
        except HTTPError as error:
            # A cache answers 404 for a URL it does not hold: nothing to purge.
            if error.code != 404:
                log.warning("purge of %s refused: HTTP %s %s", url, error.code, error.reason)

    def purge(self, url: str) -> None:
        self.purge_batch([url])

    def purge_batch(self, urls: Iterable[str]) -> None:
        urls = list(urls)
        for done, url in enumerate(urls):
            try:
                self._send(url)
            except (URLError, OSError) as error:
                reason = getattr(error, "reason", error)
                log.error(
                    "purge endpoint %s unreachable (%s): %s URL(s) not purged; shared caches "
                    "keep them until s-maxage",
                    self.location,
                    reason,
                    len(urls) - done,
                )
                return
