"""The Publishers role: staff who run the business side in the admin.

They schedule campaigns (Wagtail snippets), change the meter policy (a Wagtail setting) and
manage plans and offers (Django admin at /django-admin/; ended, never deleted), read the
insights dashboards (/admin/insights/) and run split tests (/admin/insights/experiments/).
They do not write articles: that is the Editors role. Permissions are named by app label and
codename, so this module imports no domain.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import Group, Permission

PUBLISHERS = "Publishers"
PERMISSIONS = (
    ("wagtailadmin", "access_admin"),
    ("access", "add_campaign"),
    ("access", "change_campaign"),
    ("access", "delete_campaign"),
    ("access", "view_campaign"),
    ("metering", "change_meterpolicy"),
    ("metering", "view_meterpolicy"),
    ("subscriptions", "add_plan"),
    ("subscriptions", "change_plan"),
    ("subscriptions", "view_plan"),
    ("subscriptions", "add_offer"),
    ("subscriptions", "change_offer"),
    ("subscriptions", "view_offer"),
    ("insights", "view_insights"),
    ("experiments", "view_experiment"),
    ("experiments", "change_experiment"),
)


def ensure_publishers_group() -> Group:
    """Create or complete the Publishers group (idempotent)."""
    group, _ = Group.objects.get_or_create(name=PUBLISHERS)
    for app_label, codename in PERMISSIONS:
        group.permissions.add(
            Permission.objects.get(content_type__app_label=app_label, codename=codename)
        )
    return group


def make_publisher(user: Any) -> None:
    """Give `user` the publisher role (staff for both admins, never a superuser)."""
    user.is_staff = True
    user.save(update_fields=["is_staff"])
    user.groups.add(ensure_publishers_group())
