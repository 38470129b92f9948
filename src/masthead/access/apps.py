from django.apps import AppConfig


class AccessConfig(AppConfig):
    name = "masthead.access"
    label = "access"
    verbose_name = "Access"

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from masthead.access.campaigns import forget_campaigns
        from masthead.access.models import Campaign

        post_save.connect(forget_campaigns, sender=Campaign, dispatch_uid="access-campaign-saved")
        post_delete.connect(
            forget_campaigns, sender=Campaign, dispatch_uid="access-campaign-deleted"
        )
