from django.apps import AppConfig


class GiftsConfig(AppConfig):
    name = "masthead.gifts"
    label = "gifts"
    verbose_name = "Gifts"

    def ready(self) -> None:
        from masthead.gifts import signals  # noqa: F401
