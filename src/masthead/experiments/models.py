"""Split tests (docs/experiments.md, decision 0033).

An `Experiment` varies one thing the meter or the paywall does (the meter allowance, the
preview length, or the set and order of offers) between two to ten `Variant`s with a traffic
split in whole percent. Every change of an experiment's state is an action in
`masthead.experiments.actions` with its `ExperimentChange` row. Which variant a reader is in
is never stored: it is a hash of the experiment's salt and the reader's key
(`masthead.experiments.assignment`), the same in every process.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q


class Kind(models.TextChoices):
    ALLOWANCE = "allowance", "Meter allowance"
    PREVIEW = "preview", "Preview length"
    OFFERS = "offers", "Offers shown, and their order"


class State(models.TextChoices):
    DRAFT = "draft", "Draft"
    RUNNING = "running", "Running"
    STOPPED = "stopped", "Stopped"


class Experiment(models.Model):
    name = models.CharField(max_length=120, unique=True)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    state = models.CharField(max_length=10, choices=State.choices, default=State.DRAFT)
    # Mixed into every reader's hash, so two experiments split readers independently.
    salt = models.CharField(max_length=32, editable=False)
    created_at = models.DateTimeField()
    started_at = models.DateTimeField(null=True, blank=True)
    stopped_at = models.DateTimeField(null=True, blank=True)
    winner = models.ForeignKey(
        "Variant", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    applied_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind"],
                condition=Q(state="running"),
                name="experiment_one_running_per_kind",
            )
        ]

    def __str__(self) -> str:
        return self.name


class Variant(models.Model):
    """One arm. The first (position 0) is the control the others are compared with. Only the
    field of the experiment's kind is used; an empty one keeps what the policy says."""

    experiment = models.ForeignKey(Experiment, on_delete=models.CASCADE, related_name="variants")
    position = models.PositiveSmallIntegerField()
    name = models.CharField(max_length=60)
    weight = models.PositiveSmallIntegerField(help_text="Share of readers, in percent.")
    anonymous_allowance = models.PositiveSmallIntegerField(null=True, blank=True)
    registered_allowance = models.PositiveSmallIntegerField(null=True, blank=True)
    preview_blocks = models.PositiveSmallIntegerField(null=True, blank=True)
    # Offer codes in the order the paywall lists them; offers not named are not shown. Empty:
    # every listed offer in the catalogue's order.
    offer_codes = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["experiment", "position"]
        constraints = [
            models.UniqueConstraint(fields=["experiment", "position"], name="variant_position"),
            models.UniqueConstraint(fields=["experiment", "name"], name="variant_name"),
        ]

    def __str__(self) -> str:
        return f"{self.experiment.name}: {self.name}"

    @property
    def is_control(self) -> bool:
        return self.position == 0

    def describe(self) -> str:
        kind = self.experiment.kind
        if kind == Kind.ALLOWANCE:
            anonymous = _or_policy(self.anonymous_allowance)
            registered = _or_policy(self.registered_allowance)
            return f"{anonymous} free articles signed out, {registered} signed in"
        if kind == Kind.PREVIEW:
            if self.preview_blocks is None:
                return "as the policy"
            return f"{self.preview_blocks} preview blocks"
        return ", ".join(self.offer_codes) or "every listed offer"


def _or_policy(value: int | None) -> str:
    return "as the policy" if value is None else str(value)


class Action(models.TextChoices):
    CREATED = "created", "Created"
    STARTED = "started", "Started"
    STOPPED = "stopped", "Stopped"
    WINNER_APPLIED = "winner_applied", "Winner applied"


class ExperimentChange(models.Model):
    """The history of an experiment: append-only."""

    experiment = models.ForeignKey(Experiment, on_delete=models.PROTECT, related_name="changes")
    action = models.CharField(max_length=20, choices=Action.choices)
    at = models.DateTimeField()
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    detail = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.experiment} {self.action} {self.at:%Y-%m-%d %H:%M}"
