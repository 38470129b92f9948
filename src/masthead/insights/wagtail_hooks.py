"""The insights pages in the Wagtail admin menu (only for staff with the permission)."""

from __future__ import annotations

from typing import Any

from django.urls import path, reverse
from wagtail import hooks
from wagtail.admin.menu import MenuItem

from masthead.insights import views


class InsightsMenuItem(MenuItem):
    def is_shown(self, request: Any) -> bool:
        return bool(request.user.has_perm(views.PERMISSION))


@hooks.register("register_admin_urls")
def insights_urls() -> list[Any]:
    return [
        path("insights/", views.dashboard, name="insights_dashboard"),
        path("insights/operations/", views.operations, name="insights_operations"),
    ]


@hooks.register("register_admin_menu_item")
def insights_menu_item() -> MenuItem:
    return InsightsMenuItem("Insights", reverse("insights_dashboard"), icon_name="view", order=900)


@hooks.register("register_admin_menu_item")
def operations_menu_item() -> MenuItem:
    return InsightsMenuItem(
        "Operations", reverse("insights_operations"), icon_name="cogs", order=901
    )
