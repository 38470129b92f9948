"""The narrow path: signed-out GET/HEAD reads answered at the WSGI level, before Django's
middleware stack and URL resolver.

`NarrowPath(app)` wraps the full Django WSGI application (`masthead.wsgi`). A request is
*eligible* when it is a GET or HEAD with no Authorization header, no session or messages
cookie and no gift link (`?gift=`) in its query (see `eligible`). For an eligible request
the handlers in `HANDLERS` are asked in order; the first `HttpResponse` wins. A handler
answers `None` for anything it does not know (a URL this process has not seen, a route retired
by a publish, a hidden article) and then the request goes to the full stack untouched. The
article handler reuses the route table, the same doors (`open_article`: `decide` and the
meter's record), the same shells and the same slot filling as the full stack
(`article_view.serve`), so the page is the same page.

What the full stack's middleware would do to such a request and its response is done by two
small lists, in the full stack's order: `REQUEST_HOOKS` (input check, security redirect,
locale, session, CSRF, the anonymous user, the reader identity) and `RESPONSE_HOOKS` (the
reader cookie, X-Frame-Options, CSRF, Content-Length, Content-Language and Vary, the session's
Vary, GZip, the security headers). A feature that adds a header joins `RESPONSE_HOOKS`
(a callable `(request, response) -> response`) and its middleware joins
`COVERED_MIDDLEWARE`; `tests/newsroom/test_narrow_path.py` compares the two paths byte for
byte and fails when a middleware in settings is in neither `COVERED_MIDDLEWARE` nor
`NOT_NEEDED_MIDDLEWARE`. See docs/decisions/0025-narrow-path-and-signed-in-cache.md.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from functools import cache as once
from typing import Any

from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.contrib.auth.models import AnonymousUser
from django.core import signals
from django.core.exceptions import SuspiciousOperation
from django.core.handlers.wsgi import WSGIHandler, WSGIRequest, get_script_name
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import set_script_prefix, set_urlconf
from django.utils import translation

from masthead.gifts.passes import carries_gift
from masthead.metering.actions import settle_pending_read
from masthead.metering.identity import issue_cookie_if_needed
from masthead.metering.middleware import identify

log = logging.getLogger("masthead.newsroom.fast")

Handler = Callable[[HttpRequest], HttpResponse | None]
RequestHook = Callable[[HttpRequest], HttpResponse | None]
ResponseHook = Callable[[HttpRequest, HttpResponse], HttpResponse]

# Prefixes the narrow path never answers (nothing under them is an article or a listing).
# /feeds/private/: a personal token's feed is one reader's (decision 0031), never the
# narrow path's.
NEVER = (
    "/admin/",
    "/django-admin/",
    "/api/",
    "/accounts/",
    "/account/",
    "/checkout/",
    "/-/",
    "/feeds/private/",
)


def _not_reached(request: HttpRequest) -> HttpResponse:  # pragma: no cover - never called
    raise AssertionError("the narrow path calls middleware hooks, not the chain")


@once
def _middleware(path: str) -> Any:
    from django.utils.module_loading import import_string

    return import_string(path)(_not_reached)


def _process_request(path: str) -> RequestHook:
    def hook(request: HttpRequest) -> HttpResponse | None:
        result: HttpResponse | None = _middleware(path).process_request(request)
        return result

    return hook


def _process_response(path: str) -> ResponseHook:
    def hook(request: HttpRequest, response: HttpResponse) -> HttpResponse:
        result: HttpResponse = _middleware(path).process_response(request, response)
        return result

    return hook


def _check_input(request: HttpRequest) -> HttpResponse | None:
    """`InvalidInputMiddleware`'s check: a bad value goes to the full stack (its 400 page)."""
    from masthead.core.middleware import InvalidInput, check_request

    try:
        check_request(request)
    except InvalidInput:
        return HttpResponse(status=400)  # not served: any response here means "full stack"
    return None


def _signed_out(request: HttpRequest) -> HttpResponse | None:
    """`AuthenticationMiddleware` without a session cookie: nobody is signed in. The full stack
    reads the (empty) session to learn that, which adds `Vary: Cookie`; so does this (no
    query: a session without a key is empty)."""
    request.session.get(SESSION_KEY)  # type: ignore[attr-defined]
    request.user = AnonymousUser()
    return None


def _reader(request: HttpRequest) -> HttpResponse | None:
    """`ReaderIdentityMiddleware`'s request half, the same function."""
    from masthead.core import clock

    reader = identify(request)
    if reader.pending:  # the cookie came back: its first read moves into the store
        settle_pending_read(reader, now=clock.now())
    request.reader = reader  # type: ignore[attr-defined]
    return None


def _reader_cookie(request: HttpRequest, response: HttpResponse) -> HttpResponse:
    """`ReaderIdentityMiddleware`'s response half, the same function."""
    issue_cookie_if_needed(request, response)
    return response


def _not_rate_limited(request: HttpRequest) -> HttpResponse | None:
    """A request that counts against a rate limit (search) goes to the full stack, which
    counts it (`RateLimitMiddleware`)."""
    from masthead.core.ratelimit import limit_for

    return HttpResponse(status=429) if limit_for(request) is not None else None


def _shared_cache_guard(request: HttpRequest, response: HttpResponse) -> HttpResponse:
    """`SharedCacheGuard`: a response that sets a cookie is never public."""
    from masthead.core.cdn import guard

    return guard(response)


REQUEST_CONTEXT = "masthead.core.requestlog.RequestContextMiddleware"
CSP = "masthead.core.headers.CSPMiddleware"
SECURITY = "django.middleware.security.SecurityMiddleware"
GZIP = "django.middleware.gzip.GZipMiddleware"
SESSION = "django.contrib.sessions.middleware.SessionMiddleware"
LOCALE = "django.middleware.locale.LocaleMiddleware"
COMMON = "django.middleware.common.CommonMiddleware"
CSRF = "django.middleware.csrf.CsrfViewMiddleware"
XFRAME = "django.middleware.clickjacking.XFrameOptionsMiddleware"

# Run before a handler, in the full stack's order; a hook that returns a response sends the
# request to the full stack (a redirect, a refusal: the full stack says it best).
REQUEST_HOOKS: list[RequestHook] = [
    _process_request(CSP),
    _process_request(SECURITY),
    _check_input,
    _not_rate_limited,
    _process_request(SESSION),
    _process_request(LOCALE),
    _process_request(COMMON),
    _process_request(CSRF),
    _signed_out,
    _reader,
]
# Run on the handler's response, in the full stack's order (innermost middleware first).
RESPONSE_HOOKS: list[ResponseHook] = [
    _reader_cookie,
    _process_response(XFRAME),
    _process_response(CSRF),
    _process_response(COMMON),
    _process_response(LOCALE),
    _process_response(SESSION),
    _process_response(GZIP),
    _shared_cache_guard,
    _process_response(SECURITY),
    _process_response(CSP),
]
# The settings.MIDDLEWARE entries the hooks above stand for.
COVERED_MIDDLEWARE = {
    # `answer` runs inside the same RequestScope (id, headers, metric, access line)
    REQUEST_CONTEXT,
    CSP,
    "masthead.core.cdn.SharedCacheGuard",
    "masthead.core.ratelimit.RateLimitMiddleware",
    SECURITY,
    "masthead.core.middleware.InvalidInputMiddleware",
    GZIP,
    SESSION,
    LOCALE,
    COMMON,
    CSRF,
    "masthead.accounts.middleware.AuthenticationMiddleware",
    XFRAME,
    "masthead.metering.middleware.ReaderIdentityMiddleware",
}
# And the ones that do nothing for an eligible request, with why.
NOT_NEEDED_MIDDLEWARE = {
    # static files are not routes the handlers know
    "whitenoise.middleware.WhiteNoiseMiddleware": "static files",
    # signed-out: no session to be stale, not a reader page
    "masthead.accounts.middleware.SessionEpochMiddleware": "no session",
    "masthead.accounts.middleware.ReaderPagesMiddleware": "signed out, not a reader prefix",
    # no messages cookie, no session: no messages to show or keep
    "django.contrib.messages.middleware.MessageMiddleware": "no messages cookie",
    # allauth's only work is for a login in progress, which needs a session
    "allauth.account.middleware.AccountMiddleware": "no session",
    # Wagtail's redirects act on 404s only; handlers answer 200s
    "wagtail.contrib.redirects.middleware.RedirectMiddleware": "404s only",
}


def _serve_article(request: HttpRequest) -> HttpResponse | None:
    """The article page for a route this process remembers; None for anything else."""
    from masthead.newsroom import article_view, routes

    if not routes.known_here(request):
        return None
    found = routes.lookup(request)
    if found is None:
        return None
    page, print_view = found
    request.is_preview = False  # type: ignore[attr-defined]
    try:
        return article_view.serve(request, page, print_view=print_view)
    except Http404:  # hidden: nothing was counted; the full stack renders the 404 page
        return None


def _serve_listing(request: HttpRequest) -> HttpResponse | None:
    """A listing's shared copy (home, sections, tags, authors, search results, feeds,
    sitemaps) when one is kept for this URL; None for anything else."""
    from masthead.newsroom import listing_cache

    return listing_cache.serve_signed_out(request)


# The handlers asked in order.
HANDLERS: list[Handler] = [_serve_article, _serve_listing]


def eligible(environ: dict[str, Any]) -> bool:
    """A signed-out reader's GET or HEAD: no Authorization, no session or messages cookie."""
    if environ.get("REQUEST_METHOD") not in {"GET", "HEAD"} or "HTTP_AUTHORIZATION" in environ:
        return False
    path = environ.get("PATH_INFO", "")
    # A gift link's page is this reader's (the gift's note, its open counted): full stack.
    if carries_gift(environ.get("QUERY_STRING", "")):
        return False
    if path.startswith(NEVER) or path.startswith(settings.STATIC_URL or "/static/"):
        return False
    cookies = environ.get("HTTP_COOKIE", "")
    return not cookies or not _carries(cookies, (settings.SESSION_COOKIE_NAME, _messages_cookie()))


def _messages_cookie() -> str:
    return getattr(settings, "MESSAGES_COOKIE_NAME", "messages")


def _carries(header: str, names: Iterable[str]) -> bool:
    """Whether the Cookie header holds any of these cookies (parsed as Django parses it)."""
    from django.http.cookie import parse_cookie

    parsed = parse_cookie(header)
    return any(name in parsed for name in names)


def answer(request: HttpRequest) -> HttpResponse | None:
    """The narrow path's response for an eligible request, or None (then the full stack),
    in the same request scope as the full stack's outermost middleware."""
    from masthead.core.requestlog import RequestScope

    scope = RequestScope(request, route="narrow")
    try:
        response = _answer(request)
        return None if response is None else scope.finish(response)
    finally:
        scope.close()


def _answer(request: HttpRequest) -> HttpResponse | None:
    for hook in REQUEST_HOOKS:
        if hook(request) is not None:
            return None
    for handler in HANDLERS:
        response = handler(request)
        if response is not None:
            break
    else:
        return None
    for response_hook in RESPONSE_HOOKS:
        response = response_hook(request, response)
    return response


class NarrowPath:
    """WSGI application: the narrow path in front of the full Django application."""

    def __init__(self, app: WSGIHandler) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        if not eligible(environ):
            return self.app(environ, start_response)
        # What WSGIHandler and BaseHandler do around a response, so signals, the script
        # prefix, the URL conf and the language are the same as on the full stack.
        set_script_prefix(get_script_name(environ))
        signals.request_started.send(sender=WSGIHandler, environ=environ)
        set_urlconf(settings.ROOT_URLCONF)
        request = WSGIRequest(environ)
        try:
            response = answer(request)
        except SuspiciousOperation:  # a bad Host and the like: the full stack refuses it,
            response = None  # with its one log line
        except Exception:  # a part failed: the full stack serves (or degrades) the page
            log.exception("narrow path failed; serving through the full stack")
            response = None
        if response is None:
            translation.deactivate()
            signals.request_finished.send(sender=WSGIHandler)
            return self.app(environ, start_response)
        response._resource_closers.append(request.close)  # type: ignore[attr-defined]
        response._handler_class = WSGIHandler  # type: ignore[attr-defined]
        status = f"{response.status_code} {response.reason_phrase}"
        headers = [
            *response.items(),
            *(("Set-Cookie", cookie.output(header="")) for cookie in response.cookies.values()),
        ]
        start_response(status, headers)
        return response
