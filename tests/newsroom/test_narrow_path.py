"""The narrow WSGI path answers a signed-out reader's article request with the same status,
headers and bytes as the full Django stack, and leaves everything else to it.

Each case is asked of both applications for two readers in the same state (so the meter sees
the same thing twice); only the reader cookie's signature (it carries a timestamp) and, under
gzip, the compressed bytes (Django pads them at random against BREACH) may differ.
"""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from datetime import timedelta
from http.cookies import SimpleCookie
from typing import Any

import pytest
from django.conf import settings
from django.core import signals
from django.core.handlers.wsgi import WSGIHandler
from django.db import close_old_connections
from django.http import HttpRequest, HttpResponse
from django.test import RequestFactory

from masthead.access import campaigns
from masthead.access.levels import AccessLevel
from masthead.access.models import Campaign
from masthead.core import clock, outage
from masthead.core import generation as site_generation
from masthead.metering import policy as policy_module
from masthead.metering.identity import COOKIE_SALT
from masthead.newsroom import fast, routes
from masthead.newsroom.models import Sponsor
from tests import factories

pytestmark = pytest.mark.django_db(transaction=False)


@pytest.fixture(autouse=True)
def clean_process_state() -> Iterator[None]:
    policy_module.forget_policy()
    campaigns.forget_campaigns()
    site_generation.forget()
    outage.reset()
    routes._known.clear()
    routes._shells.clear()
    yield
    policy_module.forget_policy()
    campaigns.forget_campaigns()
    routes._known.clear()
    routes._shells.clear()


class Spy:
    """The full Django application, counting the requests that reached it."""

    def __init__(self) -> None:
        self.app = WSGIHandler()
        self.calls = 0

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        self.calls += 1
        return self.app(environ, start_response)


@pytest.fixture
def apps():
    """The two applications, called as a WSGI server calls them. As Django's test client
    does, the test's database connection is not closed at the end of each request."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    full = Spy()
    yield full, fast.NarrowPath(full)  # type: ignore[arg-type]
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


def call(app: Any, path: str, *, method: str = "GET", cookie: str = "", **headers: str):
    environ = RequestFactory()._base_environ(
        PATH_INFO=path, REQUEST_METHOD=method, HTTP_COOKIE=cookie, **headers
    )
    if not cookie:
        del environ["HTTP_COOKIE"]
    seen: dict[str, Any] = {}

    def start_response(status: str, response_headers: list[tuple[str, str]]) -> None:
        seen["status"], seen["headers"] = status, response_headers

    iterable = app(environ, start_response)
    try:
        body = b"".join(iterable)
    finally:
        iterable.close()
    return seen["status"], seen["headers"], body


def reader_cookie(anonymous_id: str) -> str:
    response = HttpResponse()
    response.set_signed_cookie(settings.READER_COOKIE_NAME, anonymous_id, salt=COOKIE_SALT)
    return f"{settings.READER_COOKIE_NAME}={response.cookies[settings.READER_COOKIE_NAME].value}"


def unsigned(value: str) -> str:
    request = HttpRequest()
    request.COOKIES[settings.READER_COOKIE_NAME] = value
    return request.get_signed_cookie(settings.READER_COOKIE_NAME, salt=COOKIE_SALT)


def normalised(headers: list[tuple[str, str]], *, gzipped: bool = False) -> list[tuple[str, str]]:
    """Headers in order; the reader cookie's value unsigned (its signature carries a time) and
    its expiry date masked (Max-Age is compared), the request id's value masked (a fresh one
    per request; its presence is compared)."""
    out = []
    for name, value in headers:
        if name == "X-Request-ID":
            value = f"<{len(value)} characters>"
        if name == "Date" or (gzipped and name in {"Content-Length", "ETag"}):
            continue
        if name == "Set-Cookie" and value.lstrip().startswith(settings.READER_COOKIE_NAME + "="):
            jar: SimpleCookie = SimpleCookie()
            jar.load(value)
            morsel = jar[settings.READER_COOKIE_NAME]
            id_part, _, rest = unsigned(morsel.value).partition(".")
            value = value.replace(morsel.value, f"<{len(id_part)} hex>.{rest}")
            # "expires" is now + Max-Age, to the second: two requests may straddle a second.
            if morsel["expires"]:
                value = value.replace(morsel["expires"], "<now + Max-Age>")
        out.append((name, value))
    return out


def assert_same(full_answer, narrow_answer, *, gzipped: bool = False) -> None:
    status, headers, body = full_answer
    n_status, n_headers, n_body = narrow_answer
    assert n_status == status
    assert normalised(n_headers, gzipped=gzipped) == normalised(headers, gzipped=gzipped)
    if gzipped:
        assert gzip.decompress(n_body) == gzip.decompress(body)
    else:
        assert n_body == body


def warm(full: Spy, path: str) -> None:
    """Two full-stack reads: Wagtail routes and remembers, then the process learns the route."""
    for _ in range(2):
        assert call(full, path)[0] == "200 OK"
    assert routes._known, "the route table should know the article by now"


@pytest.fixture
def pages(db):
    return {
        "free": factories.article("Free one", access_level=AccessLevel.FREE),
        "metered": factories.article("Metered one"),
        "other": factories.article("Another metered"),
        "third": factories.article("Third metered"),
        "fourth": factories.article("Fourth metered"),
    }


@pytest.fixture
def sponsored(db):
    return factories.article(
        "Sponsored one",
        sponsored=True,
        sponsor=Sponsor.objects.create(name="Harbour Lines", disclosure="Paid for."),
    )


def served_narrow(apps, path: str, **kwargs: Any):
    """Ask the narrow application and check the full stack was not reached."""
    full, narrow = apps
    before = full.calls
    answer = call(narrow, path, **kwargs)
    assert full.calls == before, f"{path} fell through to the full stack"
    return answer


@pytest.mark.parametrize("kind", ["free", "metered"])
def test_a_fresh_reader_gets_the_same_response(apps, pages, kind):
    full, _ = apps
    path = pages[kind].url
    warm(full, path)
    assert_same(call(full, path), served_narrow(apps, path))


def test_a_sponsored_article_is_the_same_page(apps, sponsored):
    full, _ = apps
    path = sponsored.url
    warm(full, path)
    assert_same(call(full, path), served_narrow(apps, path))


@pytest.mark.parametrize("kind", ["free", "metered"])
def test_head_gets_the_same_response(apps, pages, kind):
    full, _ = apps
    path = pages[kind].url
    warm(full, path)
    assert_same(call(full, path, method="HEAD"), served_narrow(apps, path, method="HEAD"))


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ({"HTTP_ACCEPT_ENCODING": "gzip"}, ("Content-Encoding", "gzip")),
        ({"HTTP_ACCEPT_LANGUAGE": "ru"}, ("Content-Language", "ru")),
    ],
    ids=["gzip", "another-language"],
)
def test_gzip_and_languages_are_applied_the_same_way(apps, pages, header, expected):
    full, _ = apps
    path = pages["free"].url
    warm(full, path)
    full_answer = call(full, path, **header)
    narrow_answer = served_narrow(apps, path, **header)
    assert expected in narrow_answer[1]
    assert_same(full_answer, narrow_answer, gzipped="HTTP_ACCEPT_ENCODING" in header)


def _read(full: Spy, anonymous_id: str, page: Any) -> None:
    assert call(full, page.url, cookie=reader_cookie(anonymous_id))[0] == "200 OK"


@pytest.mark.parametrize("reads_before", [1, 3], ids=["mid-meter", "exhausted"])
def test_a_returning_reader_gets_the_same_response(apps, pages, reads_before):
    full, _ = apps
    path = pages["metered"].url
    warm(full, path)
    one, two = "a" * 32, "b" * 32
    for page in [pages["other"], pages["third"], pages["fourth"]][:reads_before]:
        _read(full, one, page)
        _read(full, two, page)
    full_answer = call(full, path, cookie=reader_cookie(one))
    narrow_answer = served_narrow(apps, path, cookie=reader_cookie(two))
    assert_same(full_answer, narrow_answer)
    assert not any(k == "Set-Cookie" for k, _ in narrow_answer[1])  # a known reader
    body = narrow_answer[2].decode()
    last_paragraph = "Metered one paragraph 6 of the body."
    assert (last_paragraph in body) is (reads_before < 3)


def test_a_reader_whose_first_read_was_in_the_cookie_settles_it_the_same_way(apps, pages):
    full, narrow = apps
    path = pages["metered"].url
    warm(full, path)
    cookies = []
    for app in (full, narrow):  # two fresh readers read "other": counted in their cookies
        _, headers, _ = call(app, pages["other"].url)
        cookies.append(next(v.split(";")[0] for k, v in headers if k == "Set-Cookie"))
    full_answer = call(full, path, cookie=cookies[0])
    narrow_answer = served_narrow(apps, path, cookie=cookies[1])
    assert any(k == "Set-Cookie" for k, _ in narrow_answer[1])  # the settled cookie
    assert_same(full_answer, narrow_answer)


def test_a_campaign_day_is_the_same_page(apps, pages):
    now = clock.now()
    Campaign.objects.create(
        name="Open week",
        banner_text="Everything is free this week.",
        starts_at=now - timedelta(days=1),
        ends_at=now + timedelta(days=1),
    )
    campaigns.forget_campaigns()
    full, _ = apps
    path = pages["metered"].url
    warm(full, path)
    narrow_answer = served_narrow(apps, path)
    assert "Everything is free this week." in narrow_answer[2].decode()
    assert_same(call(full, path), narrow_answer)


@pytest.mark.parametrize(
    "path", ["/world/no-such-article/", "/search/?q=harbour", "/static/masthead/site.css"]
)
def test_urls_it_does_not_know_go_to_the_full_stack(apps, pages, path):
    full, narrow = apps
    warm(full, pages["free"].url)
    before = full.calls
    assert_same(call(full, path), call(narrow, path))
    assert full.calls == before + 2


@pytest.mark.parametrize("path", ["/", "/feeds/rss/", "/feeds/atom/", "/sitemap.xml"])
def test_a_kept_listing_is_served_narrow_with_the_same_response(apps, pages, path):
    """Listings join through `HANDLERS`: once the full stack has built and kept a listing,
    the narrow path serves it, byte for byte and header for header the same."""
    full, _ = apps
    assert call(full, path)[0] == "200 OK"  # the first request builds and keeps it
    narrow_answer = served_narrow(apps, path)
    assert narrow_answer[0] == "200 OK"
    assert_same(call(full, path), narrow_answer)


def test_search_goes_to_the_full_stack_which_counts_it_against_the_limit(apps, pages):
    full, narrow = apps
    call(full, "/search/?q=harbour")
    before = full.calls
    call(narrow, "/search/?q=harbour")
    assert full.calls == before + 1


@pytest.mark.parametrize(
    "kwargs",
    [
        {"method": "POST"},
        {"cookie": f"{settings.SESSION_COOKIE_NAME}=whatever"},
        {"cookie": "messages=whatever"},
        {"HTTP_AUTHORIZATION": "Bearer abc"},
        {"QUERY_STRING": "gift=abc.def"},
        {"QUERY_STRING": "utm_source=x&gift=abc.def"},
    ],
    ids=["post", "session-cookie", "messages-cookie", "authorization", "gift", "gift-later"],
)
def test_anything_but_a_signed_out_read_goes_to_the_full_stack(apps, pages, kwargs):
    full, narrow = apps
    path = pages["free"].url
    warm(full, path)
    before = full.calls
    call(narrow, path, **kwargs)
    assert full.calls == before + 1


def test_a_publish_sends_the_next_request_to_the_full_stack(apps, pages):
    full, narrow = apps
    page = pages["free"]
    warm(full, page.url)
    page.title = "Free one, corrected"
    page.save_revision().publish()
    before = full.calls
    status, _, body = call(narrow, page.url)
    assert status == "200 OK" and "Free one, corrected" in body.decode()
    assert full.calls == before + 1  # the route was retired: Wagtail routed it again


def test_a_hidden_article_is_the_full_stacks_404(apps, pages):
    full, narrow = apps
    page = pages["free"]
    warm(full, page.url)
    page.unpublish()
    routes._known.clear()
    assert call(narrow, page.url)[0] == "404 Not Found"


def test_a_failing_part_degrades_to_the_full_stack(apps, pages, monkeypatch, caplog):
    full, narrow = apps
    path = pages["free"].url
    warm(full, path)

    def broken(request):
        raise RuntimeError("boom")

    monkeypatch.setattr(fast, "HANDLERS", [broken])
    before = full.calls
    assert call(narrow, path)[0] == "200 OK"
    assert full.calls == before + 1
    assert "narrow path failed" in caplog.text


def test_a_host_not_allowed_is_refused_by_the_full_stack_without_a_traceback(apps, pages, caplog):
    full, narrow = apps
    warm(full, pages["free"].url)
    before = full.calls
    status, _, _ = call(narrow, pages["free"].url, HTTP_HOST="elsewhere.example")
    assert status.startswith("400")
    assert full.calls == before + 1
    assert "narrow path failed" not in caplog.text
    assert "Traceback" not in caplog.text


def test_a_second_handler_is_asked_when_the_first_does_not_know_the_url(apps, pages, monkeypatch):
    full, narrow = apps
    asked = []

    def listings(request):
        asked.append(request.path)
        return HttpResponse("listing") if request.path == "/" else None

    monkeypatch.setattr(fast, "HANDLERS", [*fast.HANDLERS, listings])
    before = full.calls
    status, headers, body = call(narrow, "/")
    assert (status, body, full.calls) == ("200 OK", b"listing", before)
    assert ("X-Frame-Options", "DENY") in headers  # the response hooks ran
    assert call(narrow, "/world/nothing/")[0] == "404 Not Found"
    assert asked == ["/", "/world/nothing/"]


def test_every_middleware_is_covered_by_a_hook_or_known_not_to_matter():
    """A middleware added to settings (a CSP header, a request id) must join the hook lists
    (`fast.RESPONSE_HOOKS` and `fast.COVERED_MIDDLEWARE`) or be listed as not needed."""
    known = fast.COVERED_MIDDLEWARE | set(fast.NOT_NEEDED_MIDDLEWARE)
    assert [m for m in settings.MIDDLEWARE if m not in known] == []


def test_two_preview_arms_each_get_their_own_cut_and_stay_private(apps, pages):
    """A preview split test: two returning readers in different arms each get the arm's
    preview from the narrow path, the same bytes as the full stack, and never a shared copy."""
    from masthead.experiments import actions as experiment_actions
    from masthead.experiments import running
    from masthead.experiments.models import Kind

    article = factories.article("Vaulted one", access_level=AccessLevel.SUBSCRIBERS)
    now = clock.now()
    experiment = experiment_actions.create_experiment(
        "Preview",
        Kind.PREVIEW,
        [
            experiment_actions.VariantSpec("One", 50, preview_blocks=1),
            experiment_actions.VariantSpec("Four", 50, preview_blocks=4),
        ],
        now=now - timedelta(minutes=2),
    )
    experiment_actions.start(experiment, now=now - timedelta(minutes=1))
    running.forget()
    site_generation.forget()
    # Two anonymous readers in each arm: one asks the full stack, the other the narrow path.
    by_arm: dict[str, list[str]] = {"One": [], "Four": []}
    n = 0
    while any(len(ids) < 2 for ids in by_arm.values()):
        anonymous_id = f"{n:032x}"
        n += 1
        name = running.arm(Kind.PREVIEW, f"a:{anonymous_id}").name
        if len(by_arm[name]) < 2:
            by_arm[name].append(anonymous_id)
    full, _ = apps
    path = article.url
    warm(full, path)
    shown = {}
    for name, (one, two) in by_arm.items():
        full_answer = call(full, path, cookie=reader_cookie(one))
        narrow_answer = served_narrow(apps, path, cookie=reader_cookie(two))
        assert_same(full_answer, narrow_answer)
        headers = dict(narrow_answer[1])
        assert "private" in headers["Cache-Control"], headers
        assert "public" not in headers["Cache-Control"], headers
        body = narrow_answer[2].decode()
        shown[name] = [k for k in range(1, 7) if f"Vaulted one paragraph {k} of" in body]
    assert shown == {"One": [1], "Four": [1, 2, 3, 4]}


BOT = {"HTTP_USER_AGENT": "python-requests/2.32.3"}


def test_a_bot_gets_the_same_402_on_the_narrow_path(apps, pages):
    """An unidentified client on a route the process remembers: the same refusal, never the
    shell a browser's full read left behind (docs/machines.md)."""
    full, _ = apps
    path = pages["metered"].url
    warm(full, path)  # a browser read it in full: the full shell is kept
    full_answer = call(full, path, **BOT)
    narrow_answer = served_narrow(apps, path, **BOT)
    assert_same(full_answer, narrow_answer)
    status, headers, body = narrow_answer
    assert status == "402 Payment Required"
    named = dict(headers)
    assert named["Cache-Control"] == "private, no-store"
    assert named["Link"] == '</machine-access.json>; rel="terms-of-service"'
    assert "User-Agent" in named["Vary"]
    assert b"Metered one" in body
    assert not any(name == "Set-Cookie" for name, _ in headers)
    # The browser after the bot still reads in full.
    status, _, body = served_narrow(apps, path)
    assert status == "200 OK"
