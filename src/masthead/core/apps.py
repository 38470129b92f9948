from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "masthead.core"
    label = "core"
    verbose_name = "Masthead core"

    def ready(self) -> None:
        from masthead.core import (
            checks,  # noqa: F401  (registers the production checks)
            mail,  # noqa: F401  (registers the outbox sweep job)
        )
