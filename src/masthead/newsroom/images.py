"""Responsive images: renditions made at publish time, fetched in one query per page."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from wagtail.images import get_image_model

log = logging.getLogger("masthead.newsroom")

# Widths offered in srcset; the middle one is the fallback src and sets width/height.
ARTICLE_SPECS = ("width-480", "width-800", "width-1200")
LIST_SPECS = ("fill-480x270", "fill-800x450")
ALL_SPECS = (*ARTICLE_SPECS, *LIST_SPECS)


@dataclass(frozen=True)
class ResponsiveImage:
    src: str
    srcset: str
    width: int
    height: int
    alt: str


def responsive(image: Any, specs: Sequence[str], alt: str) -> ResponsiveImage | None:
    """An <img> description for `image`; None when the file cannot be rendered."""
    try:
        renditions = image.get_renditions(*specs)
    except Exception:  # a missing or broken file must not take the page down
        log.warning("cannot render image %s", getattr(image, "pk", None), exc_info=True)
        return None
    ordered = [renditions[spec] for spec in specs]
    fallback = ordered[len(ordered) // 2]
    return ResponsiveImage(
        src=fallback.url,
        srcset=", ".join(f"{r.url} {r.width}w" for r in ordered),
        width=fallback.width,
        height=fallback.height,
        alt=alt,
    )


def fetch(ids: Iterable[int | None], specs: Sequence[str]) -> dict[int, Any]:
    """Images by id with the given renditions prefetched (two queries, or none)."""
    wanted = {pk for pk in ids if pk}
    if not wanted:
        return {}
    images = get_image_model().objects.filter(pk__in=wanted).prefetch_renditions(*specs)
    return {image.pk: image for image in images}


def prefetch_images(ids: Iterable[int | None], specs: Sequence[str], items: list[Any]) -> None:
    """Attach `.hero` (a ResponsiveImage or None) to each list item."""
    images = fetch(ids, specs)
    for item in items:
        image = images.get(item.hero_image_id)
        alt = item.hero_caption or item.title
        item.hero = responsive(image, specs, alt) if image else None


def make_renditions(image_ids: Iterable[int | None]) -> None:
    """Create every rendition a page will ask for, so readers never wait for one."""
    for image in fetch(image_ids, ALL_SPECS).values():
        responsive(image, ALL_SPECS, "")
