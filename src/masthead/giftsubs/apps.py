from django.apps import AppConfig


class GiftSubscriptionsConfig(AppConfig):
    name = "masthead.giftsubs"
    label = "giftsubs"
    verbose_name = "Gift subscriptions"

    def ready(self) -> None:
        from masthead.giftsubs import actions, jobs  # noqa: F401  (registers the jobs)
        from masthead.subscriptions.actions import reconcile

        # The reconcile job settles a gift's unknown payment exactly as the action would.
        reconcile.SETTLERS.setdefault("gift_sale", actions.settle_purchase)
        reconcile.SETTLERS.setdefault("gift_refund", actions.settle_refund)
