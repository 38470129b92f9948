"""The Editors role: Wagtail admin access to write, publish and illustrate articles.

Readers are ordinary users with no admin permission, so Wagtail refuses them /admin/.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import Group, Permission
from wagtail.models import Collection, GroupCollectionPermission, GroupPagePermission, Page

EDITORS = "Editors"
PAGE_PERMISSIONS = ("add_page", "change_page", "publish_page", "lock_page", "unlock_page")
IMAGE_PERMISSIONS = ("add_image", "change_image", "choose_image")
MODEL_PERMISSIONS = (
    ("wagtailadmin", "access_admin"),
    ("newsroom", "add_sponsor"),
    ("newsroom", "change_sponsor"),
    ("newsroom", "view_sponsor"),
)


def ensure_editors_group(newsroom_root: Page) -> Group:
    """Create or complete the Editors group (idempotent)."""
    group, _ = Group.objects.get_or_create(name=EDITORS)
    for app_label, codename in MODEL_PERMISSIONS:
        group.permissions.add(
            Permission.objects.get(content_type__app_label=app_label, codename=codename)
        )
    for codename in PAGE_PERMISSIONS:
        GroupPagePermission.objects.get_or_create(
            group=group,
            page=newsroom_root,
            permission=Permission.objects.get(
                content_type__app_label="wagtailcore", codename=codename
            ),
        )
    # Wagtail's data migration makes the root collection; a flushed database has none.
    root_collection = Collection.get_first_root_node() or Collection.add_root(name="Root")
    for codename in IMAGE_PERMISSIONS:
        GroupCollectionPermission.objects.get_or_create(
            group=group,
            collection=root_collection,
            permission=Permission.objects.get(
                content_type__app_label="wagtailimages", codename=codename
            ),
        )
    return group


def make_editor(user: Any, newsroom_root: Page) -> None:
    """Give `user` the editor role (staff flag for Wagtail, never a superuser)."""
    user.is_staff = True
    user.save(update_fields=["is_staff"])
    user.groups.add(ensure_editors_group(newsroom_root))
