"""Every door answers with the same security headers: a matrix of page x header, exact values.

The site's pages share one Content-Security-Policy without 'unsafe-inline'; the Wagtail admin
gets its own (its inline styles and scripts); HSTS and the https redirect come only behind TLS.
"""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse

from masthead.core.headers import apply_headers, content_security_policy
from masthead.newsroom.models import AccessLevel
from tests import factories
from tests.subscriptions.conftest import make_catalog

pytestmark = pytest.mark.django_db

SITE_CSP = (
    "default-src 'self'; base-uri 'self'; connect-src 'self'; font-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; img-src 'self' data:; object-src 'none'; "
    "script-src 'self'; style-src 'self'"
)
ADMIN_CSP = (
    "default-src 'self'; base-uri 'self'; connect-src 'self'; font-src 'self' data:; "
    "form-action 'self'; frame-ancestors 'self'; frame-src 'self'; img-src 'self' data: blob:; "
    "object-src 'none'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'"
)
PERMISSIONS = (
    "accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), "
    "microphone=(), payment=(self), usb=()"
)
COMMON = {
    "Permissions-Policy": PERMISSIONS,
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "X-Content-Type-Options": "nosniff",
    "Cross-Origin-Opener-Policy": "same-origin",
}


@pytest.fixture
def site(client):
    cache.clear()
    catalog = make_catalog()
    free = factories.article("Open harbour", access_level=AccessLevel.FREE)
    paid = factories.article("Closed harbour", access_level=AccessLevel.SUBSCRIBERS)
    reader = factories.user("matrix@example.com")
    staff = factories.user("editor@example.com", staff=True)
    return {"catalog": catalog, "free": free, "paid": paid, "reader": reader, "staff": staff}


def _doors(site):
    offer = site["catalog"].one_month.code
    return [
        # (name, path, who, expected status, CSP, X-Frame-Options)
        ("home", "/", None, 200, SITE_CSP, "DENY"),
        ("article", site["free"].url, None, 200, SITE_CSP, "DENY"),
        ("paywalled article", site["paid"].url, None, 200, SITE_CSP, "DENY"),
        ("offers", "/offers/", None, 200, SITE_CSP, "DENY"),
        ("checkout", f"/checkout/offer/{offer}/", "reader", 200, SITE_CSP, "DENY"),
        ("account", "/accounts/", "reader", 200, SITE_CSP, "DENY"),
        ("search", "/search/?q=harbour", None, 200, SITE_CSP, "DENY"),
        ("api", "/api/v1/articles", None, 200, SITE_CSP, "DENY"),
        ("admin", "/admin/", "staff", 200, ADMIN_CSP, "DENY"),
        ("404", "/no-such-page/", None, 404, SITE_CSP, "DENY"),
        ("healthz", "/healthz", None, 200, SITE_CSP, "DENY"),
        ("readyz", "/readyz", None, 200, SITE_CSP, "DENY"),
    ]


def test_every_door_sends_every_security_header_with_its_exact_value(client, site, settings):
    settings.MASTHEAD_READY_WORKER_SECONDS = 300
    seen = {}
    for name, path, who, status, csp, frame in _doors(site):
        client.logout()
        if who:
            client.force_login(site[who])
        response = client.get(path)
        assert response.status_code == status, (name, response.status_code)
        seen[name] = {
            header: response.get(header)
            for header in [*COMMON, "Content-Security-Policy", "X-Frame-Options"]
        }
        expected = {**COMMON, "Content-Security-Policy": csp, "X-Frame-Options": frame}
        assert seen[name] == expected, name
        assert "Strict-Transport-Security" not in response, name  # plain http: no HSTS
        assert len(response["X-Request-ID"]) == 32, name


def test_behind_tls_https_requests_get_hsts_and_http_is_redirected_except_health(
    client, site, settings
):
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_HSTS_SECONDS = 31536000
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    settings.SECURE_HSTS_PRELOAD = False
    secure = client.get("/", headers={"X-Forwarded-Proto": "https"})
    assert secure.status_code == 200
    assert secure["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
    plain = client.get("/offers/?x=1")
    assert plain.status_code == 301
    assert plain["Location"] == "https://testserver/offers/?x=1"
    # A load balancer probes over plain http on the private side: never redirected.
    assert client.get("/healthz").status_code == 200
    assert client.get("/readyz").status_code in (200, 503)
    assert "Strict-Transport-Security" not in client.get("/healthz")


def test_demo_defaults_have_no_tls_redirect_and_no_hsts(settings):
    from masthead import settings as defaults

    assert defaults.SECURE_SSL_REDIRECT is False
    assert defaults.SECURE_HSTS_SECONDS == 0
    assert defaults.SECURE_PROXY_SSL_HEADER is None


def test_apply_headers_gives_a_bare_response_the_same_headers_as_the_middleware(site, client):
    """The signed-out fast path, which bypasses Django's middleware, calls apply_headers."""
    through_django = client.get(site["free"].url)
    request = HttpRequest()
    request.path = request.path_info = site["free"].url
    request.META = {"REMOTE_ADDR": "127.0.0.1", "SERVER_NAME": "testserver", "SERVER_PORT": "80"}
    bare = apply_headers(HttpResponse("<p>fast</p>"), request)
    for header in [*COMMON, "Content-Security-Policy", "X-Frame-Options"]:
        assert bare[header] == through_django[header], header
    assert len(bare["X-Request-ID"]) == 32
    assert content_security_policy(request) == SITE_CSP


def test_apply_headers_keeps_a_header_the_view_chose(rf):
    request = rf.get("/")
    response = HttpResponse("x")
    response["Referrer-Policy"] = "no-referrer"
    apply_headers(response, request)
    assert response["Referrer-Policy"] == "no-referrer"
    assert response["Content-Security-Policy"] == SITE_CSP
