"""The insights pages in the Wagtail admin menu (only for staff with the permission)."""

from __future__ import annotations

from typing import Any

from django.urls import path, reverse
from wagtail import hooks
from wagtail.admin.menu import MenuItem

from masthead.insights import split_views, views


class InsightsMenuItem(MenuItem):
    def is_shown(self, request: Any) -> bool:
        return bool(request.user.has_perm(views.PERMISSION))


@hooks.register("register_admin_urls")
def insights_urls() -> list[Any]:
    return [
        path("insights/", views.dashboard, name="insights_dashboard"),
        path("insights/operations/", views.operations, name="insights_operations"),
        path("insights/experiments/", split_views.experiments, name="insights_experiments"),
        path("insights/experiments/<int:pk>/", split_views.experiment, name="insights_experiment"),
        path(
            "insights/experiments/<int:pk>/<slug:what>/",
            split_views.change,
            name="insights_experiment_change",
        ),
    ]


@hooks.register("register_admin_menu_item")
def insights_menu_item() -> MenuItem:
    return InsightsMenuItem("Insights", reverse("insights_dashboard"), icon_name="view", order=900)


@hooks.register("register_admin_menu_item")
def operations_menu_item() -> MenuItem:
    return InsightsMenuItem(
        "Operations", reverse("insights_operations"), icon_name="cogs", order=901
    )


@hooks.register("register_admin_menu_item")
def experiments_menu_item() -> MenuItem:
    return InsightsMenuItem(
        "Split tests", reverse("insights_experiments"), icon_name="view", order=902
    )
