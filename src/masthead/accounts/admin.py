"""Staff tools for a reader's data: export it, or erase the account on the reader's request.

Both are actions on Django admin's user list. Erasure asks for the reason (the request and its
date) on a confirmation page and records who did it, when and why (`AccountErasure`)."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse

from masthead.accounts import erasure
from masthead.accounts.models import AccountErasure
from masthead.billing.admin import ReadOnlyAdmin
from masthead.core import clock
from masthead.subscriptions.actions import SubscriptionError

User = get_user_model()


class ErasureForm(forms.Form):
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="The reader's request: how it came and when (kept in the erasure record).",
    )


@admin.action(description="Download the selected reader's data (JSON)")
def export_reader_data(
    modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet
) -> HttpResponse | None:
    if queryset.count() != 1:
        modeladmin.message_user(request, "Select exactly one reader.", messages.ERROR)
        return None
    reader = queryset.get()
    response = HttpResponse(erasure.export_json(reader), content_type="application/json")
    response["Content-Disposition"] = f'attachment; filename="reader-{reader.pk}-data.json"'
    return response


@admin.action(description="Erase the selected readers' personal data (on their request)")
def erase_readers(
    modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet
) -> HttpResponse | None:
    if not request.user.has_perm("auth.change_user"):
        modeladmin.message_user(request, "You may not change accounts.", messages.ERROR)
        return None
    readers = list(queryset.order_by("pk"))
    form = ErasureForm(request.POST if "confirm" in request.POST else None)
    if "confirm" in request.POST and form.is_valid():
        erased = 0
        for reader in readers:
            try:
                erasure.erase_reader(
                    reader,
                    now=clock.now(),
                    actor=request.user,
                    reason=form.cleaned_data["reason"],
                    requested_by_reader=True,
                )
                erased += 1
            except (PermissionError, ValueError, SubscriptionError) as refusal:
                modeladmin.message_user(request, f"{reader.pk}: {refusal}", messages.ERROR)
        if erased:
            modeladmin.message_user(request, f"{erased} account(s) erased.", messages.SUCCESS)
        return None
    context = {
        **modeladmin.admin_site.each_context(request),
        "title": "Erase readers' personal data",
        "readers": readers,
        "form": form,
        "opts": modeladmin.model._meta,
        "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
    }
    return TemplateResponse(request, "admin/accounts/erase_readers.html", context)


admin.site.unregister(User)


@admin.register(User)
class ReaderUserAdmin(UserAdmin):
    actions = [export_reader_data, erase_readers]


@admin.register(AccountErasure)
class AccountErasureAdmin(ReadOnlyAdmin):
    list_display = ["pseudonym", "at", "actor", "requested_by_reader", "reason"]
    readonly_fields = ["user", "pseudonym", "at", "actor", "requested_by_reader", "reason"]
