"""Template helpers: the site name without a request (error pages) and decorative icons."""

from __future__ import annotations

from django import template
from django.conf import settings
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

register = template.Library()

# 24x24 single-path icons. Decorative: the link around each carries the accessible name, and
# the SVG has no <title>, so no icon text reaches the page's text.
ICON_PATHS = {
    "facebook": "M14 8h3V4h-3c-2.8 0-4 1.7-4 4.2V10H7v4h3v8h4v-8h3l1-4h-4V8.6c0-.4.3-.6.6-.6z",
    "linkedin": "M4 9h3.5v11H4zM5.8 3.5a2 2 0 1 1 0 4 2 2 0 0 1 0-4zM9.5 9H13v1.6c.5-.9 1.7-1.9 "
    "3.6-1.9 3.7 0 4.4 2.4 4.4 5.6V20h-3.5v-5c0-1.3 0-2.9-1.8-2.9s-2.1 1.4-2.1 2.8V20H9.5z",
    "x": "M4 3h4.6l4 5.6L17.4 3H20l-6.2 7.2L21 21h-4.6l-4.4-6.1L6.7 21H4l6.7-7.7z",
    "mail": "M3 5h18v14H3zm2 2v.5l7 4.5 7-4.5V7zm0 2.9V17h14V9.9l-7 4.5z",
    "print": "M7 3h10v4H7zM4 8h16a1 1 0 0 1 1 1v7h-4v5H7v-5H3V9a1 1 0 0 1 1-1zm5 8v3h6v-3z",
    "search": "M10 3a7 7 0 0 1 5.6 11.2l5.1 5.1-1.4 1.4-5.1-5.1A7 7 0 1 1 10 3zm0 2a5 5 0 1 0 0 "
    "10 5 5 0 0 0 0-10z",
    "feed": "M5 3a16 16 0 0 1 16 16h-3A13 13 0 0 0 5 6zm0 6a10 10 0 0 1 10 10h-3a7 7 0 0 0-7-7zm2 "
    "6a2 2 0 1 1 0 4 2 2 0 0 1 0-4z",
}


@register.simple_tag
def site_name() -> str:
    return str(settings.SITE_NAME)


@register.simple_tag
def icon(name: str) -> SafeString:
    path = ICON_PATHS[name]
    return format_html(
        '<svg class="icon" viewBox="0 0 24 24" width="20" height="20" aria-hidden="true" '
        'focusable="false"><path fill="currentColor" d="{}"/></svg>',
        mark_safe(path),
    )


@register.inclusion_tag("newsroom/includes/section_nav.html")
def section_nav() -> dict[str, object]:
    """The sections bar under the masthead (one query; article pages cache it)."""

    return {"sections": live_sections()}


@register.simple_tag
def live_sections() -> object:
    """The live sections, for links such as the empty search's "browse a section"."""
    from masthead.newsroom.models import SectionPage

    return SectionPage.objects.live().order_by("path").only("title", "url_path")


@register.filter
def sanitized(value: object) -> SafeString:
    """Rich text with only the tags an article paragraph may contain."""
    from masthead.newsroom.text import sanitize_html

    return sanitize_html(value)
