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


class PersonalToken(models.Model):
    """A reader's own token for their tools: the private full-text feed (scope `feed`) and the
    JSON API (scope `api`). Like an app token only a SHA-256 digest is kept. It carries no
    access of its own: every fetch asks `access.decide` about its owner (decision 0031)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="personal_tokens"
    )
    name = models.CharField(max_length=60)
    prefix = models.CharField(max_length=12)
    digest = models.CharField(max_length=64, unique=True)
    feed = models.BooleanField(default=False)  # scope: the private RSS feed
    api = models.BooleanField(default=False)  # scope: the JSON API
    created_at = models.DateTimeField()
    last_used_at = models.DateTimeField(null=True, blank=True)
    # The network the last fetch came from (an IPv4 /24 or an IPv6 /48), never the address.
    last_network = models.CharField(max_length=64, blank=True)
    # Set when the token was fetched from too many addresses within the sharing window.
    shared_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "revoked_at"], name="personaltoken_user_live")]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def active(self) -> bool:
        return self.revoked_at is None

    @property
    def scopes(self) -> list[str]:
        return [name for name in ("feed", "api") if getattr(self, name)]


class PersonalTokenUse(models.Model):
    """Fetches of one token per day: one counter row a day, bumped in place (no row per
    fetch)."""

    token = models.ForeignKey(PersonalToken, on_delete=models.CASCADE, related_name="uses")
    day = models.DateField()
    fetches = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["token", "day"], name="personaltokenuse_once_a_day")
        ]

    def __str__(self) -> str:
        return f"{self.token_id} {self.day}: {self.fetches}"


class PersonalTokenAddress(models.Model):
    """The distinct addresses (keyed digests) one token was fetched from in one sharing window,
    for sites without Redis (with Redis they are a set there)."""

    token = models.ForeignKey(PersonalToken, on_delete=models.CASCADE, related_name="+")
    window = models.BigIntegerField()  # the window's start, in seconds since the epoch
    address = models.CharField(max_length=32)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["token", "window", "address"], name="personaltokenaddress_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.token_id}@{self.window}"


class AccountEvent(models.Model):
    """Append-only history of security-relevant changes to a reader's account."""

    class Kind(models.TextChoices):
        LOGGED_OUT_EVERYWHERE = "logged_out_everywhere", "Logged out everywhere"
        TOKEN_ISSUED = "token_issued", "App token issued"
        TOKEN_REVOKED = "token_revoked", "App token revoked"
        PASSWORD_CHANGED = "password_changed", "Password changed (sessions and tokens ended)"
        PERSONAL_TOKEN_ISSUED = "personal_token_issued", "Personal token created"
        PERSONAL_TOKEN_REVOKED = "personal_token_revoked", "Personal token revoked"
        PERSONAL_TOKEN_SHARED = "personal_token_shared", "Personal token used from many addresses"

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
