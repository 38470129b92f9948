from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "masthead.billing"
    label = "billing"

    def ready(self) -> None:
        from masthead.billing import jobs

        jobs.register()
