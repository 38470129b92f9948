"""The running experiments, as every process reads them on the hot path: kept per process and
stamped with the site generation (`masthead.core.generation`), which every start, stop and
applied winner bumps, like the meter policy. When the generation cannot be read the
experiments are read from the database each time."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Q

from masthead.core import generation
from masthead.experiments.assignment import pick
from masthead.experiments.models import Experiment, Kind, State, Variant


@dataclass(frozen=True)
class Arm:
    """What a reader in one variant gets (the fields of the experiment's kind)."""

    experiment_id: int
    variant_id: int
    name: str
    weight: int
    anonymous_allowance: int | None = None
    registered_allowance: int | None = None
    preview_blocks: int | None = None
    offer_codes: tuple[str, ...] | None = None


@dataclass(frozen=True)
class Running:
    experiment_id: int
    kind: str
    salt: str
    arms: tuple[Arm, ...]

    def arm_for(self, key: str | None) -> Arm:
        return pick(self.salt, key, self.arms)


@dataclass(frozen=True)
class Settled:
    """What applied winners left in force: the offers' set and order (None: as listed)."""

    offer_codes: tuple[str, ...] | None


_KEPT = "experiments.running"


def arm_of(variant: Variant) -> Arm:
    return Arm(
        experiment_id=variant.experiment_id,
        variant_id=variant.pk,
        name=variant.name,
        weight=variant.weight,
        anonymous_allowance=variant.anonymous_allowance,
        registered_allowance=variant.registered_allowance,
        preview_blocks=variant.preview_blocks,
        # No codes: every listed offer, as the catalogue lists them (a control, typically).
        offer_codes=tuple(variant.offer_codes) or None
        if variant.experiment.kind == Kind.OFFERS
        else None,
    )


def _load() -> tuple[dict[str, Running], Settled]:
    """One query while no experiment runs or was applied (the variants are read only for
    the experiments found)."""
    running: dict[str, Running] = {}
    applied: Experiment | None = None
    found = (
        Experiment.objects.filter(
            Q(state=State.RUNNING) | Q(kind=Kind.OFFERS, applied_at__isnull=False)
        )
        .select_related("winner")
        .prefetch_related("variants__experiment")
        .order_by("-applied_at", "-pk")
    )
    for experiment in found:
        if experiment.state == State.RUNNING:
            arms = tuple(arm_of(v) for v in experiment.variants.all())
            if arms:
                running[experiment.kind] = Running(
                    experiment.pk, experiment.kind, experiment.salt, arms
                )
        elif applied is None:
            applied = experiment  # the newest applied offers winner
    winner = applied.winner if applied else None
    codes = (tuple(winner.offer_codes) or None) if winner else None
    return running, Settled(codes)


def _current() -> tuple[dict[str, Running], Settled]:
    return generation.kept(_KEPT, _load)


def running(kind: str) -> Running | None:
    return _current()[0].get(kind)


def arm(kind: str, key: str | None) -> Arm | None:
    """The arm of the running experiment of `kind` this reader is in, or None."""
    experiment = running(kind)
    return experiment.arm_for(key) if experiment else None


def offer_codes_for(key: str | None) -> tuple[str, ...] | None:
    """The offers (codes, in order) this reader's paywall lists: their arm of a running offers
    experiment, else the last applied winner's, else None (every listed offer)."""
    chosen = arm(Kind.OFFERS, key)
    if chosen is not None:
        return chosen.offer_codes
    return _current()[1].offer_codes


def forget(**_: object) -> None:
    generation.drop(_KEPT)
