"""Staff manage institutions in the Django admin (/django-admin/): domains and networks are
validated (form errors, never a 500), every save leaves an InstitutionEvent, and each
institution has a usage report (reads per month by domain and by network, members by
domain) with a CSV download. Groups are shown read-only."""

from __future__ import annotations

import csv
from typing import Any

from allauth.account.models import EmailAddress
from django.contrib import admin
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from masthead.core import clock
from masthead.groups import actions
from masthead.groups.models import (
    Group,
    GroupEvent,
    Institution,
    InstitutionDomain,
    InstitutionNetwork,
    InstitutionReader,
    InstitutionReads,
    Membership,
)


class DomainInline(admin.TabularInline):
    model = InstitutionDomain
    extra = 1


class NetworkInline(admin.TabularInline):
    model = InstitutionNetwork
    extra = 1


def usage_rows(institution: Institution) -> list[dict[str, Any]]:
    """One row per month: reads in full and distinct readers, by domain and by network."""
    months: dict[Any, dict[str, Any]] = {}
    for row in InstitutionReads.objects.filter(institution=institution):
        entry = months.setdefault(row.month, {"month": row.month})
        entry[f"reads_{row.via}"] = row.reads
    for counted in (
        InstitutionReader.objects.filter(institution=institution)
        .values("month", "via")
        .annotate(n=Count("id"))
    ):
        entry = months.setdefault(counted["month"], {"month": counted["month"]})
        entry[f"readers_{counted['via']}"] = counted["n"]
    rows = []
    for month in sorted(months, reverse=True):
        entry = months[month]
        rows.append(
            {
                "month": month,
                "reads_domain": entry.get("reads_domain", 0),
                "reads_network": entry.get("reads_network", 0),
                "readers_domain": entry.get("readers_domain", 0),
                "readers_network": entry.get("readers_network", 0),
            }
        )
    return rows


def members_by_domain(institution: Institution) -> list[tuple[str, int]]:
    result = []
    for domain in institution.domains.all():
        count = (
            EmailAddress.objects.filter(verified=True)
            .filter(Q(email__iendswith=f"@{domain.domain}"))
            .values("user_id")
            .distinct()
            .count()
        )
        result.append((domain.domain, count))
    return result


@admin.register(Institution)
class InstitutionAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "starts_at", "ends_at", "usage_link")
    prepopulated_fields = {"slug": ("name",)}
    inlines = [DomainInline, NetworkInline]
    search_fields = ("name", "domains__domain")

    @admin.display(description="Usage")
    def usage_link(self, obj: Institution) -> str:
        return format_html(
            '<a href="{}">Usage report</a>',
            reverse("admin:groups_institution_usage", args=[obj.pk]),
        )

    def get_urls(self) -> list[Any]:
        return [
            path(
                "<int:pk>/usage/",
                self.admin_site.admin_view(self.usage),
                name="groups_institution_usage",
            ),
            path(
                "<int:pk>/usage.csv",
                self.admin_site.admin_view(self.usage_csv),
                name="groups_institution_usage_csv",
            ),
            *super().get_urls(),
        ]

    def usage(self, request: HttpRequest, pk: int) -> HttpResponse:
        institution = get_object_or_404(Institution, pk=pk)
        context = {
            **self.admin_site.each_context(request),
            "title": f"Usage: {institution.name}",
            "institution": institution,
            "rows": usage_rows(institution),
            "members": members_by_domain(institution),
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "groups/admin_usage.html", context)

    def usage_csv(self, request: HttpRequest, pk: int) -> HttpResponse:
        institution = get_object_or_404(Institution, pk=pk)
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{institution.slug}-usage.csv"'
        writer = csv.writer(response)
        writer.writerow(
            [
                "month",
                "reads_by_domain",
                "reads_by_network",
                "readers_by_domain",
                "readers_by_network",
            ]
        )
        for row in usage_rows(institution):
            writer.writerow(
                [
                    row["month"].strftime("%Y-%m"),
                    row["reads_domain"],
                    row["reads_network"],
                    row["readers_domain"],
                    row["readers_network"],
                ]
            )
        writer.writerow([])
        writer.writerow(["domain", "members_with_verified_address"])
        for domain, count in members_by_domain(institution):
            writer.writerow([domain, count])
        return response

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        institution = form.instance
        actions.record_institution_change(
            institution,
            "changed" if change else "created",
            actor=request.user,
            now=clock.now(),
            data={
                "domains": [d.domain for d in institution.domains.all()],
                "networks": [n.cidr for n in institution.networks.all()],
                "starts_at": institution.starts_at.isoformat(),
                "ends_at": institution.ends_at.isoformat() if institution.ends_at else None,
            },
        )

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # ended (ends_at), never deleted: its usage and history stay


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    can_delete = False
    readonly_fields = ("user", "via", "joined_at", "removed_at")

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class GroupEventInline(admin.TabularInline):
    model = GroupEvent
    extra = 0
    can_delete = False
    readonly_fields = ("kind", "actor", "user", "email", "at", "data")

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Group)
class GroupAdmin(admin.ModelAdmin):
    list_display = ("name", "manager", "subscription")
    readonly_fields = ("subscription", "manager", "join_token_hash", "created_at")
    inlines = [MembershipInline, GroupEventInline]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
