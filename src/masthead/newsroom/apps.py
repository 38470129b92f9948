from django.apps import AppConfig


class NewsroomConfig(AppConfig):
    name = "masthead.newsroom"
    label = "newsroom"
    verbose_name = "Newsroom"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from masthead.newsroom import fulltext, jobs, signals

        signals.connect()
        jobs.register()
        post_migrate.connect(fulltext.ensure_after_migrate, sender=self)
