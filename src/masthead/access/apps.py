from django.apps import AppConfig


class AccessConfig(AppConfig):
    name = "masthead.access"
    label = "access"
    verbose_name = "Access"

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from masthead.access.campaigns import forget_campaigns
        from masthead.access.models import Campaign
        from masthead.core import generation

        post_save.connect(forget_campaigns, sender=Campaign, dispatch_uid="access-campaign-saved")
        post_delete.connect(
            forget_campaigns, sender=Campaign, dispatch_uid="access-campaign-deleted"
        )
        # Every process reloads the campaigns (and drops its page shells) within a second.
        for signal, name in ((post_save, "saved"), (post_delete, "deleted")):
            signal.connect(
                generation.bump_now_and_on_commit,
                sender=Campaign,
                dispatch_uid=f"access-campaign-{name}-generation",
            )
