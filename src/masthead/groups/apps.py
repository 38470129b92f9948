from django.apps import AppConfig


class GroupsConfig(AppConfig):
    name = "masthead.groups"
    label = "groups"
    verbose_name = "Groups and institutions"

    def ready(self) -> None:
        from masthead.groups import signals

        signals.connect()
