from django.apps import AppConfig


class MeteringConfig(AppConfig):
    name = "masthead.metering"
    label = "metering"
