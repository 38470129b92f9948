"""Billing records: saved cards (brand and last four only), the ledger, webhook receipts.

The ledger is append-only: a charge is never edited, a refund is a new negative row that
points at it. Per subscription the ledger sums to what the provider actually holds.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q, Sum
from django.utils.translation import gettext_lazy as _

from masthead.core.history import AppendOnlyModel
from masthead.core.money import format_money


class PaymentMethod(models.Model):
    """A card the provider keeps for a reader. Masthead never sees or stores the number."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="payment_methods"
    )
    provider = models.CharField(max_length=20)
    provider_ref = models.CharField(max_length=100)
    brand = models.CharField(max_length=20)
    last4 = models.CharField(max_length=4)
    exp_month = models.PositiveSmallIntegerField()
    exp_year = models.PositiveSmallIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)
    replaced_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.brand} ending {self.last4}"

    @classmethod
    def current_for(cls, user_id: int) -> PaymentMethod | None:
        return cls.objects.filter(user_id=user_id, replaced_at__isnull=True).first()


class ProviderCustomer(models.Model):
    """The provider's customer id for a reader (Stripe: cus_...)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    provider = models.CharField(max_length=20)
    provider_ref = models.CharField(max_length=100, unique=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "provider"], name="one_customer_per_provider")
        ]

    def __str__(self) -> str:
        return f"{self.provider}:{self.provider_ref}"


class EntryKind(models.TextChoices):
    CHARGE = "charge", _("Charge")
    CREDIT = "credit", _("Credit")
    REFUND = "refund", _("Refund")


class LedgerEntry(AppendOnlyModel):
    """Money that moved: charges are positive; credits and refunds are negative."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    subscription = models.ForeignKey(
        "subscriptions.Subscription", on_delete=models.PROTECT, related_name="ledger"
    )
    kind = models.CharField(max_length=8, choices=EntryKind.choices)
    amount_minor = models.IntegerField()
    currency = models.CharField(max_length=3)
    period_number = models.PositiveIntegerField(null=True, blank=True)
    period_start = models.DateTimeField(null=True, blank=True)
    period_end = models.DateTimeField(null=True, blank=True)
    # A refund or credit points at the charge it reduces.
    related = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="adjustments"
    )
    description = models.CharField(max_length=200)
    provider = models.CharField(max_length=20)
    provider_ref = models.CharField(max_length=100, null=True, blank=True, unique=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reason = models.TextField(blank=True)
    at = models.DateTimeField(help_text=_("Business time (the Masthead clock)."))
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["at", "pk"]
        verbose_name_plural = "ledger entries"
        constraints = [
            # A subscription period is charged at most once, whatever runs the renewal.
            models.UniqueConstraint(
                fields=["subscription", "period_number"],
                condition=Q(kind="charge"),
                name="one_charge_per_subscription_period",
            ),
            models.CheckConstraint(
                condition=Q(kind="charge", amount_minor__gte=0)
                | Q(kind__in=["credit", "refund"], amount_minor__lte=0),
                name="ledger_sign_matches_kind",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.receipt_number} {self.kind} {self.amount_text}"

    @property
    def receipt_number(self) -> str:
        return f"MR-{self.pk:06d}"

    @property
    def amount_text(self) -> str:
        return format_money(self.amount_minor, self.currency)

    def refundable_minor(self) -> int:
        """What is left of a charge after its credits and refunds."""
        adjusted = self.adjustments.aggregate(total=Sum("amount_minor"))["total"] or 0
        return self.amount_minor + adjusted


class WebhookStatus(models.TextChoices):
    APPLIED = "applied", _("Applied")
    IGNORED = "ignored", _("Ignored")
    FAILED = "failed", _("Failed (retry with `masthead billing_webhooks retry`)")


class WebhookEvent(models.Model):
    """Every verified provider event, stored by id: a replay changes nothing."""

    provider = models.CharField(max_length=20)
    event_id = models.CharField(max_length=100, unique=True)
    event_type = models.CharField(max_length=80)
    created = models.DateTimeField(help_text=_("When the provider created the event."))
    received_at = models.DateTimeField(auto_now_add=True)
    status = models.CharField(max_length=8, choices=WebhookStatus.choices)
    note = models.TextField(blank=True)
    payload = models.JSONField()

    class Meta:
        ordering = ["-received_at"]

    def __str__(self) -> str:
        return f"{self.event_id} {self.event_type} ({self.status})"
