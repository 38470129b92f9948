"""What retires a cached coverage (`passes`): module-level receivers (signals hold them
weakly), connected in `ready()`."""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_delete, post_save

from masthead.core import generation, reader_state


def membership_changed(sender: Any, instance: Any, **_: Any) -> None:
    reader_state.bump(instance.user_id)


def address_changed(sender: Any, instance: Any, **_: Any) -> None:
    reader_state.bump(instance.user_id)


def subscription_changed(sender: Any, instance: Any, **_: Any) -> None:
    """A group subscription's change (cancelled, expired, renewed) retires every member's
    cached seat. Only a subscription with seats can be a group's: one cheap check first."""
    if getattr(instance, "seats", 1) < 2:
        return
    from masthead.groups.models import Membership

    members = Membership.objects.filter(
        group__subscription_id=instance.pk, removed_at__isnull=True
    ).values_list("user_id", flat=True)
    for user_id in members:
        reader_state.bump(user_id)


def institution_changed(sender: Any, instance: Any, **_: Any) -> None:
    """Domains (cached per reader) and networks (per process, per generation)."""
    reader_state.bump_everyone()
    generation.bump_now_and_on_commit()


def connect() -> None:
    from allauth.account.models import EmailAddress

    from masthead.groups import models
    from masthead.subscriptions.models import Subscription

    for signal in (post_save, post_delete):
        signal.connect(membership_changed, sender=models.Membership, dispatch_uid="groups-m")
        signal.connect(address_changed, sender=EmailAddress, dispatch_uid="groups-email")
        signal.connect(subscription_changed, sender=Subscription, dispatch_uid="groups-sub")
        for model in (models.Institution, models.InstitutionDomain, models.InstitutionNetwork):
            signal.connect(
                institution_changed, sender=model, dispatch_uid=f"groups-{model.__name__}"
            )
