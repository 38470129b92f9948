from django.apps import AppConfig


class InsightsConfig(AppConfig):
    name = "masthead.insights"
    label = "insights"
    verbose_name = "Insights"

    def ready(self) -> None:
        from masthead.insights import jobs, signals  # noqa: F401  (erasure)

        jobs.register()
