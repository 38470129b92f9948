from django.apps import AppConfig


class AuditConfig(AppConfig):
    """The paywall audit: a tool above every domain that walks a running site's doors."""

    name = "masthead.audit"
    label = "audit"
    verbose_name = "Paywall audit"
