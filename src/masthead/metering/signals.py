"""Carry anonymous reads into the account when a reader signs up or logs in."""

from __future__ import annotations

from typing import Any

from allauth.account.signals import user_signed_up
from django.contrib.auth.signals import user_logged_in
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.http import HttpRequest

from masthead.core import clock, events, generation
from masthead.experiments.models import Kind
from masthead.experiments.signals import winner_applied
from masthead.metering.actions import carry_over_anonymous_reads
from masthead.metering.identity import anonymous_id_from
from masthead.metering.models import MeterPolicy
from masthead.metering.policy import forget_policy


@receiver(user_logged_in, dispatch_uid="metering-carry-over-login")
@receiver(user_signed_up, dispatch_uid="metering-carry-over-signup")
def carry_over_on_sign_in(sender: Any, request: HttpRequest | None, user: Any, **_: Any) -> None:
    if request is None or not getattr(user, "pk", None):
        return
    anonymous_id = anonymous_id_from(request)
    if anonymous_id:
        carry_over_anonymous_reads(anonymous_id, user.pk, now=clock.now())


@receiver(user_signed_up, dispatch_uid="insights-signed-up")
def note_signed_up(sender: Any, request: HttpRequest | None, user: Any, **_: Any) -> None:
    """The funnel's sign-up, with the anonymous meter id the reader had (for attribution)."""
    if not getattr(user, "pk", None):
        return
    anonymous_id = anonymous_id_from(request) if request is not None else None
    events.record(events.SIGNED_UP, events.account(user.pk), anon=anonymous_id or "")


post_save.connect(forget_policy, sender=MeterPolicy, dispatch_uid="metering-policy-saved")
post_delete.connect(forget_policy, sender=MeterPolicy, dispatch_uid="metering-policy-deleted")
# Every process reloads the policy within a second.
post_save.connect(
    generation.bump_now_and_on_commit, sender=MeterPolicy, dispatch_uid="metering-policy-gen"
)
post_delete.connect(
    generation.bump_now_and_on_commit, sender=MeterPolicy, dispatch_uid="metering-policy-gen-del"
)


@receiver(winner_applied, dispatch_uid="metering-experiment-winner")
def write_winning_policy(sender: Any, experiment: Any, variant: Any, **_: Any) -> None:
    """An allowance or preview experiment's winner becomes the saved policy, in the transaction
    that applies it (the experiment's history row names the values)."""
    if experiment.kind not in (Kind.ALLOWANCE, Kind.PREVIEW):
        return
    policy = MeterPolicy.objects.select_for_update().get(pk=MeterPolicy.load().pk)
    fields = {
        "anonymous_allowance": variant.anonymous_allowance,
        "registered_allowance": variant.registered_allowance,
        "preview_blocks": variant.preview_blocks,
    }
    wanted = {"allowance": ("anonymous_allowance", "registered_allowance")}.get(
        experiment.kind, ("preview_blocks",)
    )
    changed = [name for name in wanted if fields[name] is not None]
    for name in changed:
        setattr(policy, name, fields[name])
    if changed:
        policy.save()
