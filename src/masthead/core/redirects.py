"""Where a reader goes back to: the `next` carried through sign-in, sign-up and checkout."""

from __future__ import annotations

from django.utils.http import url_has_allowed_host_and_scheme


def safe_next(target: str | None) -> str:
    """`target` if it is a path on this site (never another host), else ""."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return ""
    if "\\" in target or not url_has_allowed_host_and_scheme(target, allowed_hosts=set()):
        return ""
    return target
