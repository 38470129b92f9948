from django.conf import settings
from django.db import models


class ClockOffset(models.Model):
    """How far the demo clock runs ahead of real time (one row; never used in production)."""

    seconds = models.BigIntegerField(default=0)
    changed_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"clock +{self.seconds}s"


class ReaderMailbox(models.Model):
    """Every address a reader has had (sign-up, added, changed), with its canonical mailbox,
    so "has this mailbox had a trial?" is one indexed lookup. Rows are kept when the address
    is removed: changing the address must not make a reader new again. Written by
    `masthead.accounts` when an address is saved; read by subscription eligibility."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="mailboxes"
    )
    address = models.CharField(max_length=254)
    mailbox = models.CharField(max_length=254, db_index=True)
    first_seen_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "address"], name="readermailbox_once")
        ]

    def __str__(self) -> str:
        return f"{self.address} -> {self.mailbox}"


class SiteGeneration(models.Model):
    """The site generation on the embedded default (one row): see `masthead.core.generation`.

    With Redis the number lives in the shared cache instead; this row is then unused.
    """

    value = models.BigIntegerField()

    def __str__(self) -> str:
        return f"generation {self.value}"
