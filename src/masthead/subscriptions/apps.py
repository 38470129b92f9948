from django.apps import AppConfig


class SubscriptionsConfig(AppConfig):
    name = "masthead.subscriptions"
    label = "subscriptions"

    def ready(self) -> None:
        from masthead.subscriptions import (
            jobs,  # noqa: F401  (registers the scheduled jobs)
            stripe_events,  # noqa: F401  (the webhook applier)
        )
