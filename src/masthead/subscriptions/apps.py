from typing import Any

from django.apps import AppConfig


def subscription_changed(sender: Any, instance: Any, **kwargs: Any) -> None:
    from masthead.core import reader_state

    reader_state.bump(instance.user_id)


def plan_changed(sender: Any, **kwargs: Any) -> None:
    from masthead.core import reader_state

    reader_state.bump_everyone()


class SubscriptionsConfig(AppConfig):
    name = "masthead.subscriptions"
    label = "subscriptions"

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from masthead.core import generation
        from masthead.subscriptions import (
            jobs,  # noqa: F401  (registers the scheduled jobs)
            stripe_events,  # noqa: F401  (the webhook applier)
        )
        from masthead.subscriptions.models import Offer, Plan, Subscription
        from masthead.subscriptions.offers import forget_catalogue

        # Each reader's cached latest subscription (entitlements.latest_subscription): any
        # save or deletion retires it, whoever makes it (actions, the admin, provider sync);
        # a plan's (its name is shown) retires everyone's. The receivers are module-level
        # functions: a signal holds its receivers weakly, and a function defined in here was
        # collected as soon as ready() returned, so no save retired anything.
        retiring: tuple[tuple[Any, Any], ...] = (
            (Subscription, subscription_changed),
            (Plan, plan_changed),
        )
        for sender, receiver in retiring:
            for signal in (post_save, post_delete):
                signal.connect(
                    receiver,
                    sender=sender,
                    dispatch_uid=f"reader-state-{sender.__name__}-{signal is post_save}",
                )
        # Every process keeps the catalogue stamped with the site generation: a saved offer or
        # plan bumps it (retiring every process's copy) and clears this process's at once.
        for model in (Offer, Plan):
            for signal in (post_save, post_delete):
                signal.connect(
                    forget_catalogue,
                    sender=model,
                    dispatch_uid=f"subscriptions-{model.__name__}-{signal is post_save}",
                )
                signal.connect(
                    generation.bump_now_and_on_commit,
                    sender=model,
                    dispatch_uid=f"subscriptions-{model.__name__}-gen-{signal is post_save}",
                )
