"""What followed an open: a sign-up (the opener's reader cookie) and a subscription (the
opener's account). Both are credited after the change that caused them commits."""

from __future__ import annotations

from typing import Any

from allauth.account.signals import user_signed_up
from django.db import transaction
from django.db.models.signals import post_save
from django.dispatch import receiver
from django.http import HttpRequest

from masthead.core import clock
from masthead.gifts import actions
from masthead.metering.identity import anonymous_id_from
from masthead.subscriptions.models import EventKind, SubscriptionEvent


@receiver(user_signed_up, dispatch_uid="gifts-signup-after-open")
def credit_signup(sender: Any, request: HttpRequest | None, user: Any, **_: Any) -> None:
    if request is None or not getattr(user, "pk", None):
        return
    anonymous_id = anonymous_id_from(request)
    if anonymous_id:
        now = clock.now()
        transaction.on_commit(lambda: actions.note_signup(anonymous_id, user, now=now))


@receiver(post_save, sender=SubscriptionEvent, dispatch_uid="gifts-subscription-after-open")
def credit_subscription(sender: Any, instance: SubscriptionEvent, created: bool, **_: Any) -> None:
    if not created or instance.kind != EventKind.SUBSCRIBED:
        return
    user_id = instance.subscription.user_id
    now = instance.at
    transaction.on_commit(lambda: actions.note_subscription(user_id, now=now))
