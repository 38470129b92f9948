"""Staff view of gift subscriptions: read-only rows and history, prices to edit, and the
refund of a gift not yet redeemed (through `actions.refund`: the payments layer, the ledger
and a history row)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils.html import format_html

from masthead.billing.providers import PaymentError
from masthead.core import clock
from masthead.giftsubs import actions
from masthead.giftsubs.models import GiftEvent, GiftPrice, GiftStatus, GiftSubscription


@admin.register(GiftPrice)
class GiftPriceAdmin(admin.ModelAdmin):
    list_display = ["months", "price_minor", "currency"]


class GiftEventInline(admin.TabularInline):
    model = GiftEvent
    extra = 0
    can_delete = False
    fields = ("at", "kind", "from_status", "to_status", "actor", "reason", "data")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class RefundForm(forms.Form):
    reason = forms.CharField(widget=forms.Textarea, help_text="Recorded in the history.")


@admin.register(GiftSubscription)
class GiftSubscriptionAdmin(admin.ModelAdmin):
    list_display = ["pk", "buyer", "recipient_email", "months", "status", "deliver_at", "tools"]
    list_filter = ["status", "months"]
    search_fields = ["buyer__email", "recipient_email", "recipient__email"]
    inlines = [GiftEventInline]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [f.name for f in GiftSubscription._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description="Staff")
    def tools(self, obj: GiftSubscription) -> str:
        if obj.status not in (GiftStatus.PURCHASED, GiftStatus.DELIVERED):
            return ""
        url = reverse("admin:giftsubs_giftsubscription_refund", args=[obj.pk])
        return format_html('<a href="{}">Refund…</a>', url)

    def get_urls(self) -> list[Any]:
        own = [
            path(
                "<int:pk>/refund/",
                self.admin_site.admin_view(self.refund_view),
                name="giftsubs_giftsubscription_refund",
            )
        ]
        return own + super().get_urls()

    def refund_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        if not self.has_change_permission(request):
            return redirect("admin:index")
        gift = get_object_or_404(GiftSubscription, pk=pk)
        form = RefundForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                actions.refund(
                    gift, now=clock.now(), actor=request.user, reason=form.cleaned_data["reason"]
                )
            except actions.GiftError as exc:
                form.add_error(None, exc.message)
            except PaymentError as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(request, "Refunded; the gift's code no longer works.")
                return redirect("admin:giftsubs_giftsubscription_change", pk)
        return render(
            request,
            "admin/giftsubs/refund.html",
            {**self.admin_site.each_context(request), "form": form, "gift": gift},
        )
