from django.apps import AppConfig


class SubscriptionsConfig(AppConfig):
    name = "masthead.subscriptions"
    label = "subscriptions"

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from masthead.subscriptions import jobs  # noqa: F401  (registers the scheduled jobs)
        from masthead.subscriptions.models import Offer, Plan
        from masthead.subscriptions.offers import forget_catalogue

        for model in (Offer, Plan):
            for signal in (post_save, post_delete):
                signal.connect(
                    forget_catalogue,
                    sender=model,
                    dispatch_uid=f"subscriptions-{model.__name__}-{signal is post_save}",
                )
