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
    # Gift subscriptions (docs/gift-subscriptions.md): a sale is cash now but revenue only
    # when the gift is redeemed (or never redeemed: breakage). A deferral (negative) takes
    # the sale out of revenue; its release (positive) puts it back.
    DEFERRAL = "deferral", _("Deferred revenue")
    RELEASE = "release", _("Deferred revenue recognised")


class LedgerEntry(AppendOnlyModel):
    """Money that moved: charges are positive; credits and refunds are negative. Deferrals
    (negative) and their releases (positive) move a gift sale in and out of revenue; money
    that belongs to no subscription yet (a gift not redeemed) has `subscription` empty."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    subscription = models.ForeignKey(
        "subscriptions.Subscription",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="ledger",
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
    # The provider payment this row settles (None for credits and money never at a provider).
    payment = models.ForeignKey(
        "billing.Payment", null=True, blank=True, on_delete=models.PROTECT, related_name="entries"
    )
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
                | Q(kind__in=["credit", "refund", "deferral"], amount_minor__lte=0)
                | Q(kind="release", amount_minor__gte=0),
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
        adjusted = (
            self.adjustments.filter(kind__in=[EntryKind.CREDIT, EntryKind.REFUND]).aggregate(
                total=Sum("amount_minor")
            )["total"]
            or 0
        )
        return self.amount_minor + adjusted


class WebhookStatus(models.TextChoices):
    RECEIVED = "received", _("Received (queued to be applied)")
    APPLIED = "applied", _("Applied")
    IGNORED = "ignored", _("Ignored")
    FAILED = "failed", _("Failed (retried by the queue; then `masthead billing_webhooks retry`)")


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


class PaymentKind(models.TextChoices):
    CHARGE = "charge", _("Charge")
    REFUND = "refund", _("Refund")


class PaymentStatus(models.TextChoices):
    PENDING = "pending", _("Pending (outcome not yet known)")
    SUCCEEDED = "succeeded", _("Succeeded (settled in the ledger)")
    FAILED = "failed", _("Failed (declined, or never reached the provider)")


class Payment(models.Model):
    """One money movement at the provider, in two phases (decision 0018).

    Written `pending` with its idempotency key before the provider is called (no lock held,
    no transaction open during the call), then settled: `succeeded` together with its ledger
    row, or `failed`. A pending payment whose outcome is unknown (a timeout, a crash between
    the provider's answer and our commit) is settled by the reconcile job, which asks the
    provider by the same key. The key is derived from what is paid for (the checkout form's
    key, the subscription and period), so a retry after a rollback reuses it.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=8, choices=PaymentKind.choices)
    status = models.CharField(
        max_length=9, choices=PaymentStatus.choices, default=PaymentStatus.PENDING
    )
    # What it pays for ("checkout-<form key>", "sub-<id>-period-<n>", "refund-<charge id>"):
    # every attempt for the same thing shares it; the idempotency key is per attempt.
    subject = models.CharField(max_length=120, db_index=True)
    idempotency_key = models.CharField(max_length=140, unique=True)
    # What settling it means, for the layer above (subscriptions): e.g. "subscribe".
    purpose = models.CharField(max_length=20)
    context = models.JSONField(default=dict, blank=True)
    amount_minor = models.PositiveIntegerField()
    currency = models.CharField(max_length=3)
    provider = models.CharField(max_length=20)
    card_ref = models.CharField(max_length=100, blank=True)
    charge_ref = models.CharField(
        max_length=100, blank=True, help_text=_("Refunds: the provider's id of the charge.")
    )
    off_session = models.BooleanField(default=False)
    description = models.CharField(max_length=200)
    provider_ref = models.CharField(max_length=100, blank=True)
    error = models.TextField(blank=True)
    at = models.DateTimeField(help_text=_("Business time (the Masthead clock)."))
    settled_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["at", "pk"]
        indexes = [models.Index(fields=["status", "at"])]

    def __str__(self) -> str:
        return f"{self.idempotency_key} {self.kind} {self.amount_text} ({self.status})"

    @property
    def amount_text(self) -> str:
        return format_money(self.amount_minor, self.currency)


class TestProviderRecord(models.Model):
    """The built-in test provider's own books: what it charged and refunded, by idempotency
    key, so a retried request is the same charge and `find_charge` can answer the reconcile
    job (a real provider keeps these on its side)."""

    __test__ = False  # not a pytest class
    kind = models.CharField(max_length=8, choices=PaymentKind.choices)
    idempotency_key = models.CharField(max_length=140, unique=True)
    provider_ref = models.CharField(max_length=100)
    amount_minor = models.PositiveIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["pk"]

    def __str__(self) -> str:
        return f"{self.kind} {self.provider_ref} {self.amount_minor}"
