"""Staff tools (Django admin at /django-admin/): plans and offers are ended, never deleted;
subscriptions are read-only except through the staff actions (cancel, end, refund, grant
complimentary access), each of which requires a reason and goes through the actions package."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils.html import format_html

from masthead.billing.admin import ReadOnlyAdmin
from masthead.billing.models import EntryKind, LedgerEntry
from masthead.billing.providers import PaymentError
from masthead.core import clock
from masthead.subscriptions import actions, evidence
from masthead.subscriptions.models import (
    ConsentRecord,
    EventKind,
    Offer,
    Plan,
    PlanPriceChange,
    RenewalNotice,
    Subscription,
    SubscriptionEvent,
)


class NoDeleteAdmin(admin.ModelAdmin):
    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        found = super().get_actions(request)
        found.pop("delete_selected", None)
        return found


@admin.action(description="End the selected (no new subscriptions from now)")
def end_now(modeladmin: Any, request: HttpRequest, queryset: Any) -> None:
    ended = queryset.filter(ended_at__isnull=True).update(ended_at=clock.now())
    messages.success(request, f"Ended {ended}.")


class PriceChangeForm(forms.Form):
    new_price_minor = forms.IntegerField(min_value=0, help_text="Cents (1800 = $18.00).")
    reason = forms.CharField(widget=forms.Textarea, help_text="Recorded with the change.")


@admin.register(Plan)
class PlanAdmin(NoDeleteAdmin):
    list_display = ["name", "slug", "price_text", "interval", "ended_at", "price_tools"]
    actions = [end_now]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        # A sold plan's price changes only through "Change the price…", which notifies its
        # subscribers before the new price applies to them (decision 0032).
        return ["price_minor", "currency", "interval"] if obj is not None else []

    @admin.display(description="Price")
    def price_tools(self, obj: Plan) -> str:
        url = reverse("admin:subscriptions_plan_price", args=[obj.pk])
        return format_html('<a href="{}">Change the price…</a>', url)

    def get_urls(self) -> list[Any]:
        own = [
            path(
                "<int:pk>/price/",
                self.admin_site.admin_view(self.price_view),
                name="subscriptions_plan_price",
            )
        ]
        return own + super().get_urls()

    def price_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        if not self.has_change_permission(request):
            return redirect("admin:index")
        plan = get_object_or_404(Plan, pk=pk)
        form = PriceChangeForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                actions.change_plan_price(
                    plan,
                    form.cleaned_data["new_price_minor"],
                    now=clock.now(),
                    actor=request.user,
                    reason=form.cleaned_data["reason"],
                )
            except actions.SubscriptionError as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(
                    request,
                    "New price saved. New subscribers pay it now; every subscriber on the plan "
                    "is sent a notice and pays it from their first renewal at least "
                    f"{settings.PRICE_CHANGE_NOTICE_DAYS} days after it.",
                )
                return redirect("admin:subscriptions_plan_changelist")
        return render(
            request,
            "admin/subscriptions/staff_action.html",
            {
                **self.admin_site.each_context(request),
                "form": form,
                "title": f"Change the price of {plan} ",
                "opts": self.model._meta,
            },
        )


@admin.register(PlanPriceChange)
class PlanPriceChangeAdmin(ReadOnlyAdmin):
    list_display = ["plan", "old_price_minor", "new_price_minor", "announced_at", "actor"]


@admin.register(ConsentRecord)
class ConsentRecordAdmin(ReadOnlyAdmin):
    list_display = ["consented_at", "user", "plan", "offer", "subscription", "network"]
    search_fields = ["user__email"]


@admin.register(RenewalNotice)
class RenewalNoticeAdmin(ReadOnlyAdmin):
    list_display = ["sent_at", "kind", "key", "subscription", "renews_at", "late"]
    list_filter = ["kind", "late"]


@admin.register(Offer)
class OfferAdmin(NoDeleteAdmin):
    list_display = ["code", "headline", "plan", "starts_at", "ends_at", "link_only", "ended_at"]
    list_filter = ["kind", "link_only"]
    actions = [end_now]


class EventInline(admin.TabularInline):
    model = SubscriptionEvent
    extra = 0
    can_delete = False
    fields = ("at", "kind", "from_status", "to_status", "actor", "reason", "data")
    readonly_fields = ("at", "kind", "from_status", "to_status", "actor", "reason", "data")

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class StaffActionForm(forms.Form):
    action = forms.ChoiceField(
        choices=[
            ("cancel", "Cancel at the end of the period"),
            ("end", "End access now"),
            ("refund", "Refund a charge"),
        ]
    )
    charge = forms.ModelChoiceField(queryset=LedgerEntry.objects.none(), required=False)
    amount_minor = forms.IntegerField(
        required=False, min_value=1, help_text="Cents; empty refunds all that is left."
    )
    reason = forms.CharField(widget=forms.Textarea, help_text="Recorded in the history.")


class GrantForm(forms.Form):
    email = forms.EmailField()
    until = forms.DateTimeField(help_text="When the complimentary access ends.")
    plan = forms.ModelChoiceField(queryset=Plan.objects.all())
    reason = forms.CharField(widget=forms.Textarea)


@admin.register(Subscription)
class SubscriptionAdmin(NoDeleteAdmin):
    list_display = ["user", "plan", "status", "current_period_end", "provider", "staff_tools"]
    list_filter = ["status", "provider", "plan"]
    search_fields = ["user__email", "provider_ref"]
    inlines = [EventInline]
    change_list_template = "admin/subscriptions/subscription/change_list.html"

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [f.name for f in Subscription._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.display(description="Staff")
    def staff_tools(self, obj: Subscription) -> str:
        url = reverse("admin:subscriptions_subscription_staff", args=[obj.pk])
        bundle = reverse("admin:subscriptions_subscription_evidence", args=[obj.pk])
        return format_html(
            '<a href="{}">Cancel, end or refund…</a> · <a href="{}">Evidence</a>', url, bundle
        )

    def get_urls(self) -> list[Any]:
        own = [
            path(
                "<int:pk>/staff/",
                self.admin_site.admin_view(self.staff_view),
                name="subscriptions_subscription_staff",
            ),
            path(
                "<int:pk>/evidence/",
                self.admin_site.admin_view(self.evidence_view),
                name="subscriptions_subscription_evidence",
            ),
            path(
                "<int:pk>/evidence.json",
                self.admin_site.admin_view(self.evidence_json),
                name="subscriptions_subscription_evidence_json",
            ),
            path(
                "grant/",
                self.admin_site.admin_view(self.grant_view),
                name="subscriptions_subscription_grant",
            ),
        ]
        return own + super().get_urls()

    def staff_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        if not self.has_change_permission(request):
            return redirect("admin:index")
        sub = get_object_or_404(Subscription, pk=pk)
        form = StaffActionForm(request.POST or None)
        charge_field = form.fields["charge"]
        assert isinstance(charge_field, forms.ModelChoiceField)
        charge_field.queryset = LedgerEntry.objects.filter(subscription=sub, kind=EntryKind.CHARGE)
        if request.method == "POST" and form.is_valid():
            data, now = form.cleaned_data, clock.now()
            try:
                if data["action"] == "refund":
                    if data["charge"] is None:
                        raise actions.SubscriptionError("Choose the charge to refund.")
                    actions.refund(
                        data["charge"],
                        now=now,
                        actor=request.user,
                        reason=data["reason"],
                        amount_minor=data["amount_minor"],
                    )
                else:
                    actions.cancel(
                        sub,
                        now=now,
                        actor=request.user,
                        reason=data["reason"],
                        immediately=data["action"] == "end",
                    )
            except (actions.SubscriptionError, PaymentError) as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(request, "Done; recorded in the subscription's history.")
                return redirect("admin:subscriptions_subscription_change", pk)
        return render(
            request,
            "admin/subscriptions/staff_action.html",
            {
                **self.admin_site.each_context(request),
                "form": form,
                "subscription": sub,
                "title": f"Staff action on {sub}",
                "opts": self.model._meta,
            },
        )

    def evidence_json(self, request: HttpRequest, pk: int) -> HttpResponse:
        """The evidence bundle as a download (staff with view permission only)."""
        if not self.has_view_permission(request):
            return redirect("admin:index")
        sub = get_object_or_404(Subscription, pk=pk)
        response = JsonResponse(
            evidence.bundle(sub, now=clock.now()), json_dumps_params={"indent": 2}
        )
        response["Content-Disposition"] = f'attachment; filename="evidence-{sub.pk}.json"'
        response["Cache-Control"] = "private, no-store"
        return response

    def evidence_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        """The same bundle, readable (and printable) in the browser."""
        if not self.has_view_permission(request):
            return redirect("admin:index")
        sub = get_object_or_404(Subscription, pk=pk)
        response = render(
            request,
            "admin/subscriptions/evidence.html",
            {
                **self.admin_site.each_context(request),
                "bundle": evidence.bundle(sub, now=clock.now()),
                "subscription": sub,
                "title": f"Evidence for subscription {sub.pk}",
                "opts": self.model._meta,
            },
        )
        response["Cache-Control"] = "private, no-store"
        return response

    def grant_view(self, request: HttpRequest) -> HttpResponse:
        if not self.has_change_permission(request):
            return redirect("admin:index")
        form = GrantForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            user = get_user_model().objects.filter(email__iexact=data["email"]).first()
            try:
                if user is None:
                    raise actions.SubscriptionError("No reader has this e-mail address.")
                sub = actions.grant_comp(
                    user,
                    until=data["until"],
                    now=clock.now(),
                    actor=request.user,
                    reason=data["reason"],
                    plan=data["plan"],
                )
            except actions.SubscriptionError as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(request, "Complimentary access granted.")
                return redirect("admin:subscriptions_subscription_change", sub.pk)
        return render(
            request,
            "admin/subscriptions/staff_action.html",
            {
                **self.admin_site.each_context(request),
                "form": form,
                "title": "Grant complimentary access",
                "opts": self.model._meta,
            },
        )


RETENTION_KINDS = [
    EventKind.CANCEL_REASON,
    EventKind.SAVE_OFFER_ACCEPTED,
    EventKind.SAVE_OFFER_DECLINED,
    EventKind.PAUSED,
    EventKind.UNPAUSED,
    EventKind.WINBACK_SENT,
]


class RetentionKindFilter(admin.SimpleListFilter):
    """Retention rows first (docs/retention.md): reasons, save offers' outcomes, pauses."""

    title = "retention"
    parameter_name = "retention"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("yes", "Reasons, save offers, pauses, win-backs")]

    def queryset(self, request: HttpRequest, queryset: Any) -> Any:
        if self.value() == "yes":
            return queryset.filter(kind__in=RETENTION_KINDS)
        return queryset


@admin.register(SubscriptionEvent)
class SubscriptionEventAdmin(ReadOnlyAdmin):
    """Every history row, for reports: filter by kind (or the retention rows) and by date."""

    list_display = ["at", "kind", "subscription", "from_status", "to_status", "why", "offer"]
    list_filter = [RetentionKindFilter, "kind", "at"]
    search_fields = ["subscription__user__email"]
    list_select_related = ["subscription__user", "subscription__plan"]

    @admin.display(description="reason")
    def why(self, obj: SubscriptionEvent) -> str:
        return str(obj.data.get("reason", "")) if obj.kind == EventKind.CANCEL_REASON else ""

    @admin.display(description="save offer")
    def offer(self, obj: SubscriptionEvent) -> str:
        return str(obj.data.get("offer", ""))
