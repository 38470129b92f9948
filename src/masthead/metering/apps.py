from django.apps import AppConfig


class MeteringConfig(AppConfig):
    name = "masthead.metering"
    label = "metering"
    verbose_name = "Metering"

    def ready(self) -> None:
        from masthead.metering import jobs, signals  # noqa: F401  (carry-over at sign-in)

        jobs.register()
