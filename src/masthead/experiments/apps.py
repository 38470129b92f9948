from django.apps import AppConfig


class ExperimentsConfig(AppConfig):
    name = "masthead.experiments"
    label = "experiments"
    verbose_name = "Split tests"

    def ready(self) -> None:
        from masthead.experiments import signals  # noqa: F401
