"""Every change to an experiment: one action, one transaction, one `ExperimentChange` row."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from masthead.experiments.models import (
    Action,
    Experiment,
    ExperimentChange,
    Kind,
    State,
    Variant,
)

MIN_VARIANTS = 2
MAX_VARIANTS = 10


@dataclass
class VariantSpec:
    name: str
    weight: int
    anonymous_allowance: int | None = None
    registered_allowance: int | None = None
    preview_blocks: int | None = None
    offer_codes: list[str] = field(default_factory=list)


def check_variants(
    kind: str, specs: list[VariantSpec], known_offers: frozenset[str] | None = None
) -> None:
    """Refuse a split that cannot run, with a message staff can act on. `known_offers`: the
    offer codes that exist (the caller reads them; experiments sit below subscriptions)."""
    if not MIN_VARIANTS <= len(specs) <= MAX_VARIANTS:
        raise ValidationError(
            f"An experiment has from {MIN_VARIANTS} to {MAX_VARIANTS} variants "
            f"(this one has {len(specs)})."
        )
    if any(s.weight < 1 for s in specs):
        raise ValidationError("Every variant needs a share of at least 1%.")
    total = sum(s.weight for s in specs)
    if total != 100:
        raise ValidationError(f"The shares must add up to 100% (they add up to {total}%).")
    names = [s.name.strip() for s in specs]
    if any(not n for n in names) or len(set(names)) != len(names):
        raise ValidationError("Every variant needs a name of its own.")
    if kind == Kind.ALLOWANCE and any(
        s.anonymous_allowance is None and s.registered_allowance is None for s in specs[1:]
    ):
        raise ValidationError("Every variant but the control sets an allowance.")
    if kind == Kind.PREVIEW and any(s.preview_blocks is None for s in specs[1:]):
        raise ValidationError("Every variant but the control sets a preview length.")
    if kind == Kind.OFFERS:
        for s in specs:
            unknown = [
                c for c in s.offer_codes if known_offers is not None and c not in known_offers
            ]
            if unknown:
                raise ValidationError(f"No offer has the code {', '.join(unknown)}.")
            if len(set(s.offer_codes)) != len(s.offer_codes):
                raise ValidationError(f"Variant {s.name} names an offer twice.")


def _note(experiment: Experiment, action: str, now: datetime, actor: Any, detail: str = "") -> None:
    ExperimentChange.objects.create(
        experiment=experiment,
        action=action,
        at=now,
        actor=actor if getattr(actor, "pk", None) else None,
        detail=detail[:300],
    )


@transaction.atomic
def create_experiment(
    name: str,
    kind: str,
    specs: list[VariantSpec],
    *,
    now: datetime,
    actor: Any = None,
    known_offers: frozenset[str] | None = None,
) -> Experiment:
    if kind not in Kind.values:
        raise ValidationError(f"Unknown kind of experiment: {kind}.")
    check_variants(kind, specs, known_offers)
    if Experiment.objects.filter(name=name).exists():
        raise ValidationError("An experiment with this name exists.")
    experiment = Experiment.objects.create(
        name=name, kind=kind, salt=secrets.token_hex(8), created_at=now
    )
    for position, s in enumerate(specs):
        Variant.objects.create(
            experiment=experiment,
            position=position,
            name=s.name.strip(),
            weight=s.weight,
            anonymous_allowance=s.anonymous_allowance,
            registered_allowance=s.registered_allowance,
            preview_blocks=s.preview_blocks,
            offer_codes=list(s.offer_codes),
        )
    _note(experiment, Action.CREATED, now, actor, f"{len(specs)} variants")
    return experiment


def _locked(experiment: Experiment) -> Experiment:
    return Experiment.objects.select_for_update().get(pk=experiment.pk)


def start(experiment: Experiment, *, now: datetime, actor: Any = None) -> Experiment:
    try:
        with transaction.atomic():
            experiment = _locked(experiment)
            if experiment.state != State.DRAFT:
                raise ValidationError("Only a draft experiment can start.")
            variants = list(experiment.variants.all())
            check_variants(experiment.kind, [_spec(v) for v in variants])
            experiment.state = State.RUNNING
            experiment.started_at = now
            experiment.save(update_fields=["state", "started_at"])
            _note(experiment, Action.STARTED, now, actor)
    except IntegrityError as exc:  # the one-running-per-kind constraint
        raise ValidationError(
            f"Another {Kind(experiment.kind).label.lower()} experiment is running: stop it first."
        ) from exc
    return experiment


@transaction.atomic
def stop(experiment: Experiment, *, now: datetime, actor: Any = None) -> Experiment:
    experiment = _locked(experiment)
    if experiment.state != State.RUNNING:
        raise ValidationError("Only a running experiment can be stopped.")
    experiment.state = State.STOPPED
    experiment.stopped_at = now
    experiment.save(update_fields=["state", "stopped_at"])
    _note(experiment, Action.STOPPED, now, actor)
    return experiment


@transaction.atomic
def apply_winner(
    experiment: Experiment, variant: Variant, *, now: datetime, actor: Any = None
) -> Experiment:
    """Make `variant`'s value what every reader gets, once: the meter policy's allowance or
    preview (written by metering, through `winner_applied`), or the offers' set and order."""
    from masthead.experiments.signals import winner_applied

    experiment = _locked(experiment)
    if experiment.state != State.STOPPED:
        raise ValidationError("Stop the experiment before applying a winner.")
    if experiment.applied_at is not None:
        raise ValidationError("This experiment's winner is already applied.")
    if variant.experiment_id != experiment.pk:
        raise ValidationError("That variant is not one of this experiment's.")
    experiment.winner = variant
    experiment.applied_at = now
    experiment.save(update_fields=["winner", "applied_at"])
    winner_applied.send(Experiment, experiment=experiment, variant=variant, actor=actor, now=now)
    _note(experiment, Action.WINNER_APPLIED, now, actor, f"{variant.name}: {variant.describe()}")
    return experiment


def _spec(v: Variant) -> VariantSpec:
    return VariantSpec(
        v.name,
        v.weight,
        v.anonymous_allowance,
        v.registered_allowance,
        v.preview_blocks,
        list(v.offer_codes),
    )
