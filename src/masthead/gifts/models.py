"""Gift links, who opened them, and their append-only history."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from masthead.core.history import AppendOnlyModel


class GiftLink(models.Model):
    """One article given by one reader. Only a hash of the token is kept (`tokens.digest`)."""

    giver = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="gift_links"
    )
    article = models.ForeignKey(
        "wagtailcore.Page", on_delete=models.CASCADE, related_name="gift_links"
    )
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    # Counters, changed with F() only (actions.record_open, note_signup, note_subscription).
    opens = models.PositiveIntegerField(default=0)
    signups = models.PositiveIntegerField(default=0)
    subscriptions = models.PositiveIntegerField(default=0)

    class Meta:
        indexes = [models.Index(fields=["giver", "created_at"], name="gift_giver_created")]
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"Gift {self.pk} of page {self.article_id}"

    def status_at(self, now: datetime) -> str:
        if self.revoked_at is not None:
            return "revoked"
        return "expired" if now >= self.expires_at else "valid"


class GiftOpen(models.Model):
    """A distinct opener of a gift (by account, else reader cookie), and what followed."""

    gift = models.ForeignKey(GiftLink, on_delete=models.CASCADE, related_name="openers")
    opener_key = models.CharField(max_length=40)  # ReaderIdentity.meter_key: u:<id> or a:<hex>
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    opened_at = models.DateTimeField()
    signed_up_at = models.DateTimeField(null=True, blank=True)
    subscribed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["gift", "opener_key"], name="gift_open_once_per_reader")
        ]

    def __str__(self) -> str:
        return f"Gift {self.gift_id} opened by {self.opener_key}"


class GiftEvent(AppendOnlyModel):
    class Kind(models.TextChoices):
        CREATED = "created", _("created")
        REVOKED = "revoked", _("revoked")
        OPENED = "opened", _("opened")
        SIGNED_UP = "signed_up", _("signed up after opening")
        SUBSCRIBED = "subscribed", _("subscribed after opening")

    gift = models.ForeignKey(GiftLink, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reader_key = models.CharField(max_length=40, blank=True)
    at = models.DateTimeField()

    class Meta:
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.kind} gift {self.gift_id}"
