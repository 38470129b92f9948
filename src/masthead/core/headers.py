"""The security headers every response carries, computed by one plain function.

`apply_headers(response, request)` sets Content-Security-Policy, Permissions-Policy,
Referrer-Policy, X-Content-Type-Options, X-Frame-Options, Cross-Origin-Opener-Policy, HSTS
(behind TLS, when configured) and X-Request-ID on a response that lacks them. The middleware
calls it for every Django response; a path that bypasses Django's middleware (the signed-out
fast path) calls it too, so both answer with the same headers.

The policy itself is django-csp's (`CONTENT_SECURITY_POLICY` in settings, built by
`csp.utils.build_policy`); the Wagtail and Django admins get a wider one (`ADMIN_POLICY`):
Wagtail's admin uses inline styles and scripts that cannot carry our nonce.
"""

from __future__ import annotations

from typing import Any

from csp.constants import HEADER
from csp.middleware import CSPMiddleware as BaseCSPMiddleware
from csp.middleware import PolicyParts
from csp.utils import build_policy
from django.conf import settings
from django.http import HttpRequest
from django.http.response import HttpResponseBase

ADMIN_PREFIXES = ("/admin/", "/django-admin/")
# Wagtail 8's admin: its page explorer writes inline scripts that carry no nonce (Chromium
# reports two script-src-elem violations on /admin/pages/ with 'self' alone) and its editors
# use inline styles; images from data: and blob: (uploads, previews), previews in its own
# iframes. Still no third-party origin (Gravatar and the release check are off in settings).
ADMIN_POLICY: dict[str, Any] = {
    "default-src": ["'self'"],
    "script-src": ["'self'", "'unsafe-inline'"],
    "style-src": ["'self'", "'unsafe-inline'"],
    "img-src": ["'self'", "data:", "blob:"],
    "font-src": ["'self'", "data:"],
    "connect-src": ["'self'"],
    "frame-src": ["'self'"],
    "object-src": ["'none'"],
    "base-uri": ["'self'"],
    "form-action": ["'self'"],
    "frame-ancestors": ["'self'"],
}


def policy_config(request: HttpRequest) -> dict[str, Any] | None:
    """The CSP directives for this request's path (None: the site's, from settings)."""
    if request.path_info.startswith(ADMIN_PREFIXES):
        return ADMIN_POLICY
    return None


def canonical(policy: str) -> str:
    """`policy` with its directives in one order (default-src, then alphabetical).

    django-csp joins the directives in set order, which differs between processes; a header
    that changes from one worker to the next defeats caches and exact tests alike."""
    parts = [part.strip() for part in policy.split(";") if part.strip()]
    return "; ".join(sorted(parts, key=lambda part: (not part.startswith("default-src "), part)))


def content_security_policy(request: HttpRequest) -> str:
    """The exact Content-Security-Policy header value for `request`."""
    nonce = getattr(request, "_csp_nonce", None)
    return canonical(build_policy(config=policy_config(request), nonce=nonce))


def _set_default(response: HttpResponseBase, name: str, value: str) -> None:
    if value and name not in response:
        response[name] = value


def _is_secure(request: HttpRequest) -> bool:
    try:
        return request.is_secure()
    except Exception:  # a request object the fast path built by hand
        return False


def apply_headers(response: HttpResponseBase, request: HttpRequest) -> HttpResponseBase:
    """Give `response` every per-response security header it lacks (and the request id)."""
    if HEADER not in response and not getattr(response, "_csp_exempt", False):
        _set_default(response, HEADER, content_security_policy(request))
    _set_default(response, "Permissions-Policy", settings.PERMISSIONS_POLICY)
    _set_default(response, "Referrer-Policy", settings.SECURE_REFERRER_POLICY or "")
    _set_default(response, "X-Content-Type-Options", "nosniff")
    # Wagtail's preview views set SAMEORIGIN themselves; every other page may not be framed.
    _set_default(response, "X-Frame-Options", settings.X_FRAME_OPTIONS)
    _set_default(response, "Cross-Origin-Opener-Policy", "same-origin")
    if settings.SECURE_HSTS_SECONDS and _is_secure(request):
        value = f"max-age={settings.SECURE_HSTS_SECONDS}"
        if settings.SECURE_HSTS_INCLUDE_SUBDOMAINS:
            value += "; includeSubDomains"
        if settings.SECURE_HSTS_PRELOAD:
            value += "; preload"
        _set_default(response, "Strict-Transport-Security", value)
    from masthead.core.requestlog import request_id_for

    _set_default(response, "X-Request-ID", request_id_for(request))
    return response


class CSPMiddleware(BaseCSPMiddleware):
    """django-csp's middleware (nonce on `request.csp_nonce`), with the admin's policy."""

    def get_policy_parts(
        self,
        request: HttpRequest,
        response: HttpResponseBase,
        report_only: bool = False,
    ) -> PolicyParts:
        parts = super().get_policy_parts(request, response, report_only)
        if not report_only and parts.config is None:
            parts.config = policy_config(request)
        return parts

    def process_response(
        self, request: HttpRequest, response: HttpResponseBase
    ) -> HttpResponseBase:
        had_policy = HEADER in response
        response = super().process_response(request, response)
        if not had_policy and HEADER in response:
            response[HEADER] = canonical(response[HEADER])
        return response
