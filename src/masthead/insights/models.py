"""What the funnel events become once drained (docs/insights.md, decision 0030).

- `Event`: the raw events, kept `MASTHEAD_INSIGHTS_RETENTION_DAYS` days, then pruned.
- `ReaderDay`: the funnel's aggregate, one row per reader per day with a bit per step reached
  that day, so a period's funnel is a distinct count over days (kept for good, no props).
- `DailyCount`: how many events of each name (and reason) a day saw.
- `ReaderAlias`: the anonymous meter id a reader had when they signed up, so a conversion
  is attributed to what they read before the account existed.
- `Conversion`: a sign-up, trial or first payment and the last article read before it.

No personal data: a reader is "u:<account id>" or "a:<anonymous meter id>".
"""

from __future__ import annotations

from django.db import models


class Step(models.IntegerChoices):
    """The funnel's steps, as bits of `ReaderDay.steps`, in funnel order."""

    VISITED = 1, "Visitors"
    MET_METER = 2, "Met the meter"
    PAYWALL = 4, "Hit the paywall"
    REGISTERED = 8, "Registered"
    TRIAL = 16, "Started a trial"
    PAID = 32, "Paid"
    RENEWED = 64, "Renewed"


class Event(models.Model):
    event_id = models.CharField(max_length=32, unique=True)
    name = models.CharField(max_length=32)
    reader = models.CharField(max_length=40)
    at = models.DateTimeField(db_index=True)
    article_id = models.BigIntegerField(null=True, blank=True)
    offer_id = models.BigIntegerField(null=True, blank=True)
    reason = models.CharField(max_length=40, blank=True)
    props = models.JSONField(default=dict, blank=True)

    class Meta:
        default_permissions = ()
        permissions = [("view_insights", "Can view reader-revenue insights")]
        indexes = [models.Index(fields=["reader", "at"], name="insights_event_reader_at")]

    def __str__(self) -> str:
        return f"{self.name} {self.reader} {self.at:%Y-%m-%d %H:%M}"


class ReaderDay(models.Model):
    day = models.DateField()
    reader = models.CharField(max_length=40)
    steps = models.IntegerField(default=0)

    class Meta:
        default_permissions = ()
        constraints = [models.UniqueConstraint(fields=["day", "reader"], name="readerday_once")]
        indexes = [models.Index(fields=["day"], name="insights_readerday_day")]

    def __str__(self) -> str:
        return f"{self.day} {self.reader} {self.steps}"


class DailyCount(models.Model):
    day = models.DateField()
    name = models.CharField(max_length=32)
    reason = models.CharField(max_length=40, blank=True)
    count = models.IntegerField(default=0)

    class Meta:
        default_permissions = ()
        constraints = [
            models.UniqueConstraint(fields=["day", "name", "reason"], name="dailycount_once")
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.name} {self.reason} {self.count}"


class ReaderAlias(models.Model):
    anonymous = models.CharField(max_length=40)
    account = models.CharField(max_length=40, db_index=True)

    class Meta:
        default_permissions = ()
        constraints = [
            models.UniqueConstraint(fields=["anonymous", "account"], name="readeralias_once")
        ]

    def __str__(self) -> str:
        return f"{self.anonymous} -> {self.account}"


class Conversion(models.Model):
    event_id = models.CharField(max_length=32, unique=True)
    kind = models.CharField(max_length=32)  # signed_up, trial_started, first_payment
    reader = models.CharField(max_length=40)
    at = models.DateTimeField(db_index=True)
    article_id = models.BigIntegerField(null=True, blank=True)  # the last article read before
    offer_id = models.BigIntegerField(null=True, blank=True)
    amount_minor = models.IntegerField(default=0)

    class Meta:
        default_permissions = ()

    def __str__(self) -> str:
        return f"{self.kind} {self.reader} <- {self.article_id}"


class Touch(models.Model):
    """The shared attribution rule: one row per distinct article the converting reader (or
    the anonymous reader they were) was shown in the `SHARED_WINDOW_DAYS` before a
    conversion; each of the conversion's `of` articles is credited 1/`of` of it. Made when
    the conversion is drained, so it outlives the raw events."""

    conversion = models.ForeignKey(Conversion, on_delete=models.CASCADE, related_name="touches")
    article_id = models.BigIntegerField()
    of = models.PositiveIntegerField()  # how many articles share this conversion

    class Meta:
        default_permissions = ()
        constraints = [
            models.UniqueConstraint(fields=["conversion", "article_id"], name="touch_once")
        ]

    def __str__(self) -> str:
        return f"{self.conversion_id} <- {self.article_id} (1/{self.of})"
