"""Gift subscriptions and their history. Written only by `masthead.giftsubs.actions`.

A gift's redeem code is made when the gift is delivered and only its SHA-256 is kept here;
the code itself exists in the recipient's e-mail alone.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from masthead.core.history import AppendOnlyModel
from masthead.core.money import format_money

DURATIONS = (1, 3, 6, 12)


class GiftPrice(models.Model):
    """What staff charge for a gift of so many months; without a row, the monthly plan's
    price times the months."""

    months = models.PositiveSmallIntegerField(
        unique=True, choices=[(m, f"{m} month{'s' if m > 1 else ''}") for m in DURATIONS]
    )
    price_minor = models.PositiveIntegerField(help_text=_("Price in cents (4500 = $45.00)."))
    currency = models.CharField(max_length=3, default="USD")

    class Meta:
        ordering = ["months"]

    def __str__(self) -> str:
        return f"{self.months} months: {format_money(self.price_minor, self.currency)}"


class GiftStatus(models.TextChoices):
    PURCHASED = "purchased", _("Purchased (to be delivered)")
    DELIVERED = "delivered", _("Delivered (not yet redeemed)")
    REDEEMED = "redeemed", _("Redeemed")
    REFUNDED = "refunded", _("Refunded")
    EXPIRED = "expired", _("Expired unredeemed")


class GiftSubscription(models.Model):
    buyer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="gift_subscriptions"
    )
    recipient_email = models.EmailField()
    recipient_name = models.CharField(max_length=100)
    message = models.TextField(blank=True, max_length=500)
    months = models.PositiveSmallIntegerField()
    plan = models.ForeignKey(
        "subscriptions.Plan", on_delete=models.PROTECT, related_name="gift_subscriptions"
    )
    price_minor = models.PositiveIntegerField()
    currency = models.CharField(max_length=3)
    status = models.CharField(max_length=10, choices=GiftStatus.choices)
    deliver_at = models.DateTimeField(help_text=_("When the recipient gets the e-mail."))
    # The purchase form's key: a double click is one gift.
    purchase_key = models.CharField(max_length=64, unique=True)
    code_hash = models.CharField(max_length=64, null=True, blank=True, unique=True)
    payment = models.ForeignKey(
        "billing.Payment", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    sale = models.ForeignKey(
        "billing.LedgerEntry", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="gifts_received",
    )
    subscription = models.ForeignKey(
        "subscriptions.Subscription",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="gifts",
    )
    purchased_at = models.DateTimeField()
    delivered_at = models.DateTimeField(null=True, blank=True)
    redeemed_at = models.DateTimeField(null=True, blank=True)
    ends_at = models.DateTimeField(null=True, blank=True, help_text=_("Access given until."))
    reminded_for = models.DateTimeField(
        null=True, blank=True, help_text=_("The end date the recipient was reminded of.")
    )
    closed_at = models.DateTimeField(null=True, blank=True, help_text=_("Refunded or expired."))

    class Meta:
        ordering = ["-purchased_at", "-pk"]
        indexes = [models.Index(fields=["status", "deliver_at"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(months__in=DURATIONS), name="gift_months_are_a_duration"
            )
        ]

    def __str__(self) -> str:
        return f"Gift {self.pk}: {self.months} months for {self.recipient_email}"

    @property
    def price_text(self) -> str:
        return format_money(self.price_minor, self.currency)

    @property
    def months_text(self) -> str:
        return "1 month" if self.months == 1 else f"{self.months} months"


class GiftEvent(AppendOnlyModel):
    """Append-only history: one row per change of a gift, with who and why."""

    class Kind(models.TextChoices):
        PURCHASED = "purchased", _("Purchased")
        DELIVERED = "delivered", _("Delivered")
        REDEEMED = "redeemed", _("Redeemed")
        REMINDED = "reminded", _("Ending reminder sent")
        REFUNDED = "refunded", _("Refunded")
        EXPIRED = "expired", _("Expired unredeemed (breakage)")

    gift = models.ForeignKey(GiftSubscription, on_delete=models.PROTECT, related_name="events")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    from_status = models.CharField(max_length=10, blank=True)
    to_status = models.CharField(max_length=10)
    at = models.DateTimeField(help_text=_("Business time (the Masthead clock)."))
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reason = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d} gift {self.gift_id} {self.kind}"
