"""Absolute links from one setting, SITE_URL: e-mails, feeds, API responses and structured
data never name the host a request happened to arrive on."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings


def absolute(url: str | None) -> str:
    """A path on this site as an absolute URL on SITE_URL; other URLs are left alone."""
    if not url:
        return ""
    if url.startswith("/") and not url.startswith("//"):
        return settings.SITE_URL + url
    return url


def on_site(url: str) -> str:
    """A URL this site built from a request (allauth does) re-based on SITE_URL, keeping its
    path, query and fragment."""
    parts = urlsplit(url)
    rest = parts.path or "/"
    if parts.query:
        rest += f"?{parts.query}"
    if parts.fragment:
        rest += f"#{parts.fragment}"
    return settings.SITE_URL + rest
