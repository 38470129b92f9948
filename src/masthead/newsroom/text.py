"""Editor-entered text made safe to output, and plain text for search and metadata."""

from __future__ import annotations

import html
import re
from collections.abc import Iterable
from typing import Any

import nh3
from django.utils.html import strip_tags
from django.utils.safestring import SafeString, mark_safe

# What an article paragraph may contain once rendered; anything else an editor (or an
# imported revision) slips in is dropped.
ALLOWED_TAGS = {"p", "a", "b", "strong", "i", "em", "ol", "ul", "li", "sup", "sub", "br"}
ALLOWED_ATTRIBUTES = {"a": {"href"}}
ALLOWED_URL_SCHEMES = {"http", "https", "mailto"}
_FIRST_PARAGRAPH = re.compile(r"<p>", re.IGNORECASE)
_SPACES = re.compile(r"\s+")


def sanitize_html(value: Any) -> SafeString:
    """Rich text (a RichText value or an HTML string) as HTML with only the allowed tags."""
    source = value.__html__() if hasattr(value, "__html__") else str(value or "")
    cleaned = nh3.clean(
        source,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=ALLOWED_URL_SCHEMES,
        link_rel="noopener noreferrer",
    )
    return mark_safe(cleaned)


def with_dateline(paragraph_html: str, dateline: str) -> SafeString:
    """Put 'MOSCOW --' at the start of the paragraph's own text, as print newspapers do."""
    label = f'<span class="dateline">{html.escape(dateline.upper())} --</span> '
    if _FIRST_PARAGRAPH.match(paragraph_html):
        return mark_safe(_FIRST_PARAGRAPH.sub("<p>" + label, paragraph_html, count=1))
    return mark_safe(f"<p>{label}</p>{paragraph_html}")


def plain(value: Any) -> str:
    """Rich text or HTML as one line of plain text."""
    source = value.__html__() if hasattr(value, "__html__") else str(value or "")
    return _SPACES.sub(" ", html.unescape(strip_tags(source))).strip()


def block_text(block: Any) -> str:
    kind, value = block.block_type, block.value
    if kind == "paragraph":
        return plain(value)
    if kind == "subheading":
        return str(value)
    if kind == "pull_quote":
        return " ".join(part for part in (value["quote"], value["attribution"]) if part)
    if kind == "image":
        return " ".join(part for part in (value["caption"], value["credit"]) if part)
    return ""


def blocks_text(blocks: Iterable[Any]) -> str:
    return " ".join(filter(None, (block_text(block) for block in blocks)))
