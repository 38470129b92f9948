"""Reader credentials beyond the password: session epochs, app tokens, and their history."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class SessionEpoch(models.Model):
    """A reader's sign-in generation. "Log out everywhere" bumps it, so every session
    stamped with an older epoch is refused by `SessionEpochMiddleware`."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="session_epoch"
    )
    epoch = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.user_id}@{self.epoch}"


class AppToken(models.Model):
    """A bearer token for the apps. Only a SHA-256 digest of the secret is stored: the token
    is 256 random bits, so a fast hash is enough and a leaked table reveals no usable token."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="app_tokens"
    )
    name = models.CharField(max_length=80)
    # The first characters of the token, shown so a reader can tell their tokens apart.
    prefix = models.CharField(max_length=12)
    digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField()
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "revoked_at"], name="apptoken_user_live")]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def active(self) -> bool:
        return self.revoked_at is None


class AccountEvent(models.Model):
    """Append-only history of security-relevant changes to a reader's account."""

    class Kind(models.TextChoices):
        LOGGED_OUT_EVERYWHERE = "logged_out_everywhere", "Logged out everywhere"
        TOKEN_ISSUED = "token_issued", "App token issued"
        TOKEN_REVOKED = "token_revoked", "App token revoked"
        PASSWORD_CHANGED = "password_changed", "Password changed (sessions and tokens ended)"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="account_events"
    )
    kind = models.CharField(max_length=32, choices=Kind.choices)
    at = models.DateTimeField()
    detail = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.kind} {self.at:%Y-%m-%d %H:%M}"


class AccountErasure(models.Model):
    """Append-only record of an erased account: who asked, who did it, when and why.

    The account itself stays (under `pseudonym`) because the ledger and subscription history
    point at it; see masthead.accounts.erasure and decision 0028."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="erasure"
    )
    pseudonym = models.CharField(max_length=40, unique=True)
    at = models.DateTimeField()
    # Staff who erased it on the reader's request; empty when the reader did it themselves.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    requested_by_reader = models.BooleanField(default=True)
    reason = models.TextField()

    objects: models.Manager[AccountErasure] = models.Manager()

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.pseudonym} erased {self.at:%Y-%m-%d}"
