"""Production sanity checks, run by `masthead check` (and `manage.py check --deploy`).

`production_configuration` runs with --deploy (and before `masthead serve` in production);
`payment_provider_known` runs on every command, so an unknown PAYMENT_PROVIDER stops the site
from starting with a clear message instead of failing a reader's checkout.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import Error, Tags, register
from django.utils.module_loading import import_string

PER_PROCESS_CACHES = {
    "django.core.cache.backends.locmem.LocMemCache",
    "django.core.cache.backends.dummy.DummyCache",
}
LOSSY_EMAIL_BACKENDS = {
    "django.core.mail.backends.filebased.EmailBackend": "writes e-mail to files",
    "django.core.mail.backends.console.EmailBackend": "prints e-mail to the console",
    "django.core.mail.backends.locmem.EmailBackend": "keeps e-mail in memory",
    "django.core.mail.backends.dummy.EmailBackend": "discards e-mail",
}


def known_providers() -> list[str]:
    # Read lazily: core sits below billing, which owns the provider table.
    return sorted(import_string("masthead.billing.providers.PROVIDERS"))


def database_engine() -> str:
    return str(settings.DATABASES["default"]["ENGINE"])


def web_processes(workers: int | None = None) -> int:
    """Processes serving the site: WEB_CONCURRENCY workers (or serve's default) x instances."""
    workers = workers or settings.WEB_CONCURRENCY
    if workers <= 0:
        from masthead.core.management.commands.serve import default_workers

        workers = default_workers()
    return workers * max(1, settings.APP_INSTANCES)


@register(Tags.compatibility)
def payment_provider_known(app_configs: object, **kwargs: object) -> list[Error]:
    known = known_providers()
    if settings.PAYMENT_PROVIDER in known:
        return []
    return [
        Error(
            f"PAYMENT_PROVIDER is {settings.PAYMENT_PROVIDER!r}, which is not a payment "
            f"provider Masthead has.",
            hint=f"Set PAYMENT_PROVIDER to one of: {', '.join(known)}.",
            id="masthead.E015",
        )
    ]


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
    if settings.PRODUCTION:
        errors.extend(_payments())
        errors.extend(_email_and_tasks())
        web_workers = kwargs.get("web_workers")
        errors.extend(_shared_state(web_workers if isinstance(web_workers, int) else None))
        errors.extend(_shared_media())
    return errors


LOCAL_STORAGES = {"django.core.files.storage.FileSystemStorage"}


def _shared_media() -> list[Error]:
    """Several instances each writing uploads to their own disk would lose images."""
    storages: dict[str, Any] = settings.STORAGES
    backend = storages["default"]["BACKEND"]
    if settings.APP_INSTANCES <= 1 or backend not in LOCAL_STORAGES:
        return []
    if settings.MEDIA_SHARED_FILESYSTEM:
        return []
    return [
        Error(
            f"Media is stored on local disk ({settings.MEDIA_ROOT}) but the site runs as "
            f"MASTHEAD_INSTANCES={settings.APP_INSTANCES}: an image uploaded through one "
            "instance, and its renditions, would be missing on the others.",
            hint="Set MASTHEAD_MEDIA_S3_BUCKET (and its endpoint, region and keys) so every "
            "instance shares one bucket, or MASTHEAD_MEDIA_SHARED_FILESYSTEM=true if MEDIA_ROOT "
            "is one shared filesystem (docs/operations.md, 'Media').",
            id="masthead.E030",
        )
    ]


def _payments() -> list[Error]:
    errors: list[Error] = []
    if settings.PAYMENT_PROVIDER == "test":
        errors.append(
            Error(
                "PAYMENT_PROVIDER is the built-in test provider: anyone could subscribe with "
                "the test card 4242 4242 4242 4242 and never pay.",
                hint="Set PAYMENT_PROVIDER=stripe with live keys (docs/billing.md).",
                id="masthead.E010",
            )
        )
    if settings.PAYMENT_PROVIDER == "stripe":
        if not settings.STRIPE_WEBHOOK_SECRET:
            errors.append(
                Error(
                    "Stripe is the payment provider but STRIPE_WEBHOOK_SECRET is empty, so no "
                    "webhook (renewal, failed payment, cancellation) can be verified.",
                    hint="Set STRIPE_WEBHOOK_SECRET to the endpoint's signing secret (whsec_...).",
                    id="masthead.E013",
                )
            )
        if settings.STRIPE_SECRET_KEY.startswith(("sk_test_", "rk_test_")) or (
            settings.STRIPE_PUBLISHABLE_KEY.startswith("pk_test_")
        ):
            errors.append(
                Error(
                    "A Stripe test-mode key is set in production (live mode): no real card "
                    "would be charged.",
                    hint="Use the live keys (sk_live_..., pk_live_...) in production.",
                    id="masthead.E014",
                )
            )
        if not settings.STRIPE_SECRET_KEY:
            errors.append(
                Error(
                    "Stripe is the payment provider but STRIPE_SECRET_KEY is empty.",
                    hint="Set STRIPE_SECRET_KEY to the live secret key (sk_live_...).",
                    id="masthead.E016",
                )
            )
    return errors


def _email_and_tasks() -> list[Error]:
    errors: list[Error] = []
    lossy = LOSSY_EMAIL_BACKENDS.get(settings.EMAIL_BACKEND)
    if lossy:
        errors.append(
            Error(
                f"EMAIL_BACKEND {lossy} ({settings.EMAIL_BACKEND}): readers would get no "
                "receipts, sign-in codes or password resets.",
                hint="Use django.core.mail.backends.smtp.EmailBackend with EMAIL_HOST, or a "
                "provider through django-anymail (anymail.backends.<esp>.EmailBackend).",
                id="masthead.E011",
            )
        )
    if settings.TASKS_BACKEND == "immediate":
        errors.append(
            Error(
                "MASTHEAD_TASKS_BACKEND is 'immediate': e-mail and renewals would run inside "
                "requests with no retry.",
                hint="Use 'database' or 'redis' and run `masthead worker` (docs/jobs.md).",
                id="masthead.E017",
            )
        )
    return errors


def _shared_state(workers: int | None) -> list[Error]:
    processes = web_processes(workers)
    if processes <= 1:
        return []
    where = (
        f"{processes} processes ({workers or settings.WEB_CONCURRENCY or 'one per core'} workers "
        f"x MASTHEAD_INSTANCES={settings.APP_INSTANCES})"
    )
    errors: list[Error] = []
    if database_engine() == "django.db.backends.sqlite3":
        errors.append(
            Error(
                f"The database is SQLite, a file on one machine, but the site runs as {where}.",
                hint="Set DATABASE_URL to PostgreSQL (postgres://...), or WEB_CONCURRENCY=1 and "
                "MASTHEAD_INSTANCES=1 for a single-process site.",
                id="masthead.E012",
            )
        )
    caches: dict[str, Any] = settings.CACHES
    for alias, cache in caches.items():
        if cache.get("BACKEND") in PER_PROCESS_CACHES:
            errors.append(
                Error(
                    f"The {alias!r} cache ({cache['BACKEND']}) lives in each process, but the "
                    f"site runs as {where}: each would keep its own sessions, meter and "
                    "generations.",
                    hint="Set REDIS_URL (redis://...) so every process shares one cache.",
                    id="masthead.E018",
                )
            )
    return errors
