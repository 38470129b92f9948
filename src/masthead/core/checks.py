"""Production sanity checks, run by `masthead check` (and `manage.py check --deploy`)."""

from __future__ import annotations

from django.conf import settings
from django.core.checks import Error, Tags, register


@register(Tags.security, deploy=True)
def production_configuration(app_configs: object, **kwargs: object) -> list[Error]:
    errors: list[Error] = []
    if settings.DEBUG:
        errors.append(Error("DEBUG is on.", hint="Unset DEBUG in production.", id="masthead.E001"))
    if settings.SECRET_KEY == settings.DEFAULT_SECRET_KEY or len(settings.SECRET_KEY) < 32:
        errors.append(
            Error(
                "SECRET_KEY is the demo default or shorter than 32 characters.",
                hint="Set SECRET_KEY to a long random value.",
                id="masthead.E002",
            )
        )
    if not settings.ALLOWED_HOSTS or "*" in settings.ALLOWED_HOSTS:
        errors.append(
            Error(
                "ALLOWED_HOSTS is empty or a wildcard.",
                hint="Set ALLOWED_HOSTS to the site's host names.",
                id="masthead.E003",
            )
        )
    if settings.DEMO_CLOCK_ENABLED and settings.PRODUCTION:
        errors.append(Error("The demo clock is enabled in production.", id="masthead.E004"))
    return errors
