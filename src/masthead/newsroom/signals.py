"""Publish-time work: renditions made once, cached fragments invalidated everywhere."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from wagtail.signals import page_published, page_unpublished

from masthead.newsroom import article_view, images


def article_image_ids(page: Any) -> list[int | None]:
    ids = [getattr(page, "hero_image_id", None)]
    for block in getattr(page, "body", []):
        if block.block_type == "image" and block.value["image"]:
            ids.append(block.value["image"].pk)
    return ids


def on_published(sender: Any, instance: Any, **kwargs: Any) -> None:
    page = instance.specific
    transaction.on_commit(article_view.bump_generation)
    if hasattr(page, "hero_image_id"):
        images.make_renditions(article_image_ids(page))


def on_unpublished(sender: Any, instance: Any, **kwargs: Any) -> None:
    transaction.on_commit(article_view.bump_generation)


def connect() -> None:
    page_published.connect(on_published, dispatch_uid="newsroom.on_published")
    page_unpublished.connect(on_unpublished, dispatch_uid="newsroom.on_unpublished")
