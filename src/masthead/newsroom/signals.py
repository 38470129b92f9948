"""Publish-time work: renditions made once, cached fragments invalidated everywhere, shared
caches (a CDN, nginx, Varnish) purged of the pages the change reaches (`purges`)."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any

from django.db.models.signals import post_delete, post_save, pre_delete
from wagtail.models import Page, PageViewRestriction, Site
from wagtail.signals import page_published, page_unpublished, post_page_move

from masthead.core import generation as site_generation
from masthead.newsroom import images, purges

log = logging.getLogger("masthead.cdn")


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


def _purging(handler: Callable[..., set[str] | None]) -> Callable[..., None]:
    """A purge handler: gathers the URLs a change reaches when purging is on, queues their
    purge for after the commit, and never lets a failure reach the change itself."""

    @functools.wraps(handler)
    def run(*args: Any, **kwargs: Any) -> None:
        if not purges.enabled():
            return
        try:
            urls = handler(*args, **kwargs)
        except Exception:
            log.exception("could not work out what to purge (%s)", handler.__name__)
            return
        if urls is None:
            purges.after_commit_everything()
        else:
            purges.after_commit(urls)

    return run


@_purging
def purge_published(sender: Any, instance: Any, revision: Any = None, **kwargs: Any) -> set[str]:
    """The page as published now, and as it was (its old slug, tags, authors)."""
    urls = purges.page_urls(instance)
    if revision is not None:
        previous = (
            revision.__class__.objects.filter(
                base_content_type_id=revision.base_content_type_id,
                object_id=revision.object_id,
                created_at__lt=revision.created_at,
            )
            .order_by("-created_at", "-pk")
            .first()
        )
        if previous is not None:
            urls |= purges.revision_urls(previous)
    return urls


@_purging
def purge_unpublished(sender: Any, instance: Any, **kwargs: Any) -> set[str]:
    return purges.page_urls(instance)


@_purging
def purge_moved(
    sender: Any, instance: Any, parent_page_before: Any, parent_page_after: Any, **kwargs: Any
) -> set[str]:
    """Where the page is now, and where it was (its old URL and its old section)."""
    from masthead.newsroom.models import ArticlePage

    page = instance.specific
    if not page.live:
        return set()
    urls = purges.page_urls(page) | purges.page_urls(parent_page_before)
    old_parent = purges.root_and_path(parent_page_before)
    if isinstance(page, ArticlePage) and old_parent:
        old_path = f"{old_parent[1]}{page.slug}/"
        urls |= purges.article_urls(page, path=old_path, section=parent_page_before)
    return urls


@_purging
def purge_deleted(sender: Any, instance: Any, **kwargs: Any) -> set[str]:
    return purges.page_urls(instance) if instance.live else set()


@_purging
def purge_restricted(sender: Any, instance: Any, **kwargs: Any) -> set[str]:
    from wagtail.models import Page as WagtailPage

    page = WagtailPage.objects.filter(pk=instance.page_id).first()
    return purges.restricted_urls(page) if page is not None else set()


@_purging
def purge_everything(**kwargs: Any) -> None:
    """A change every shared page shows (a campaign's banner, the meter policy)."""
    return None


def connect() -> None:
    from masthead.access.models import Campaign
    from masthead.metering.models import MeterPolicy
    from masthead.newsroom.models import ArticlePage, AuthorPage, SectionPage

    page_published.connect(purge_published, dispatch_uid="newsroom.purge_published")
    page_unpublished.connect(purge_unpublished, dispatch_uid="newsroom.purge_unpublished")
    post_page_move.connect(purge_moved, dispatch_uid="newsroom.purge_moved")
    for page_model in (ArticlePage, SectionPage, AuthorPage):
        pre_delete.connect(
            purge_deleted, sender=page_model, dispatch_uid=f"newsroom.purge_deleted.{page_model}"
        )
    for signal in (post_save, post_delete):
        signal.connect(
            purge_restricted,
            sender=PageViewRestriction,
            dispatch_uid=f"newsroom.purge_restricted.{signal is post_save}",
        )
        for model in (Campaign, MeterPolicy):
            signal.connect(
                purge_everything,
                sender=model,
                dispatch_uid=f"newsroom.purge_everything.{model}.{signal is post_save}",
            )
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
