"""Publish-time work: renditions made once, cached fragments invalidated everywhere."""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_delete, post_save
from wagtail.models import Page, PageViewRestriction, Site
from wagtail.signals import page_published, page_unpublished, post_page_move

from masthead.core import generation as site_generation
from masthead.newsroom import images


def article_image_ids(page: Any) -> list[int | None]:
    ids = [getattr(page, "hero_image_id", None)]
    for block in getattr(page, "body", []):
        if block.block_type == "image" and block.value["image"]:
            ids.append(block.value["image"].pk)
    return ids


def retire_cached_pages(**kwargs: Any) -> None:
    """Bump now (this process sees the change at once) and again on commit (another process
    may have cached the old rows between the two)."""
    site_generation.bump_now_and_on_commit()


def on_published(sender: Any, instance: Any, **kwargs: Any) -> None:
    page = instance.specific
    retire_cached_pages()
    if hasattr(page, "hero_image_id"):
        images.make_renditions(article_image_ids(page))


def on_page_saved(sender: Any, **kwargs: Any) -> None:
    if issubclass(sender, Page):
        retire_cached_pages()


def connect() -> None:
    page_published.connect(on_published, dispatch_uid="newsroom.on_published")
    page_unpublished.connect(retire_cached_pages, dispatch_uid="newsroom.on_unpublished")
    post_page_move.connect(retire_cached_pages, dispatch_uid="newsroom.on_moved")
    post_save.connect(on_page_saved, dispatch_uid="newsroom.on_page_saved")
    post_delete.connect(on_page_saved, dispatch_uid="newsroom.on_page_deleted")
    from taggit.models import Tag

    from masthead.newsroom.models import Sponsor

    # Lists show a sponsor's name and disclosure and a tag's name (listing_cache keeps them).
    for model in (PageViewRestriction, Site, Sponsor, Tag):
        post_save.connect(retire_cached_pages, sender=model, dispatch_uid=f"newsroom.{model}")
        post_delete.connect(
            retire_cached_pages, sender=model, dispatch_uid=f"newsroom.{model}.deleted"
        )
