"""`masthead check` refuses an unsafe production, each refusal with its own clear message."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError

from masthead.billing.providers import UnknownProvider, get_provider
from masthead.core.checks import payment_provider_known, production_configuration
from masthead.core.management.commands.serve import configuration_problems

LONG_SECRET = "x" * 50
SAFE = {
    "PRODUCTION": True,
    "DEBUG": False,
    "DEMO_CLOCK_ENABLED": False,
    "SECRET_KEY": LONG_SECRET,
    "ALLOWED_HOSTS": ["news.example.org"],
    "PAYMENT_PROVIDER": "stripe",
    "STRIPE_SECRET_KEY": "sk_live_abc",
    "STRIPE_PUBLISHABLE_KEY": "pk_live_abc",
    "STRIPE_WEBHOOK_SECRET": "whsec_abc",
    "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
    "TASKS_BACKEND": "database",
    "WEB_CONCURRENCY": 4,
    "APP_INSTANCES": 2,
}
POSTGRES = "django.db.backends.postgresql"
SQLITE = "django.db.backends.sqlite3"
REDIS = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache"}}
S3_MEDIA = {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": {"bucket_name": "media"}}


@pytest.fixture
def production(settings: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """A production configuration that passes; each test breaks one thing."""
    for name, value in SAFE.items():
        setattr(settings, name, value)
    monkeypatch.setattr("masthead.core.checks.database_engine", lambda: POSTGRES)
    settings.CACHES = REDIS
    # Several instances share media through a bucket (local media is masthead.E030).
    settings.STORAGES = {**settings.STORAGES, "default": S3_MEDIA}
    return settings


def ids(**kwargs: Any) -> list[str]:
    return [error.id for error in production_configuration(None, **kwargs)]


def message(error_id: str) -> str:
    (error,) = [e for e in production_configuration(None) if e.id == error_id]
    return f"{error.msg} {error.hint}"


def test_a_safe_production_configuration_passes(production):
    assert production_configuration(None) == []
    assert payment_provider_known(None) == []


def test_the_built_in_test_payment_provider_is_refused(production):
    production.PAYMENT_PROVIDER = "test"
    assert ids() == ["masthead.E010"]
    assert "4242 4242 4242 4242" in message("masthead.E010")
    assert "PAYMENT_PROVIDER=stripe" in message("masthead.E010")


@pytest.mark.parametrize(
    ("backend", "words"),
    [
        ("django.core.mail.backends.filebased.EmailBackend", "writes e-mail to files"),
        ("django.core.mail.backends.console.EmailBackend", "prints e-mail to the console"),
    ],
)
def test_a_file_or_console_email_backend_is_refused(production, backend, words):
    production.EMAIL_BACKEND = backend
    assert ids() == ["masthead.E011"]
    assert words in message("masthead.E011") and "django-anymail" in message("masthead.E011")


def test_anymail_is_accepted_as_a_production_email_backend(production):
    production.EMAIL_BACKEND = "anymail.backends.postmark.EmailBackend"
    assert ids() == []


def test_sqlite_with_several_workers_or_instances_is_refused(production, monkeypatch):
    monkeypatch.setattr("masthead.core.checks.database_engine", lambda: SQLITE)
    assert ids() == ["masthead.E012"]
    assert "runs as 8 processes (4 workers x MASTHEAD_INSTANCES=2)" in message("masthead.E012")
    production.WEB_CONCURRENCY, production.APP_INSTANCES = 1, 1
    assert ids() == []  # one process on one machine: SQLite is fine
    production.APP_INSTANCES = 3
    assert ids() == ["masthead.E012"]


def test_sqlite_with_serves_default_workers_is_refused(production, monkeypatch):
    monkeypatch.setattr("masthead.core.checks.database_engine", lambda: SQLITE)
    production.WEB_CONCURRENCY, production.APP_INSTANCES = 0, 1  # serve: one per core, >= 2
    assert ids() == ["masthead.E012"]
    assert ids(web_workers=1) == []


def test_a_per_process_cache_with_several_workers_is_refused(production):
    production.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    assert ids() == ["masthead.E018"]
    assert "Set REDIS_URL" in message("masthead.E018")
    production.WEB_CONCURRENCY, production.APP_INSTANCES = 1, 1
    assert ids() == []


def test_stripe_without_a_webhook_secret_is_refused(production):
    production.STRIPE_WEBHOOK_SECRET = ""
    assert ids() == ["masthead.E013"]
    assert "STRIPE_WEBHOOK_SECRET" in message("masthead.E013")


@pytest.mark.parametrize(
    ("secret", "publishable"),
    [("sk_test_abc", "pk_live_abc"), ("rk_test_abc", "pk_live_abc"), ("sk_live_a", "pk_test_a")],
)
def test_a_stripe_test_key_in_live_mode_is_refused(production, secret, publishable):
    production.STRIPE_SECRET_KEY, production.STRIPE_PUBLISHABLE_KEY = secret, publishable
    assert ids() == ["masthead.E014"]
    assert "test-mode key" in message("masthead.E014")


def test_stripe_without_a_secret_key_is_refused(production):
    production.STRIPE_SECRET_KEY = ""
    assert ids() == ["masthead.E016"]


def test_the_immediate_task_backend_is_refused(production):
    production.TASKS_BACKEND = "immediate"
    assert ids() == ["masthead.E017"]


def test_outside_production_the_demo_defaults_pass(settings):
    settings.PRODUCTION = False
    settings.PAYMENT_PROVIDER = "test"
    settings.EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    assert [e.id for e in production_configuration(None) if e.id >= "masthead.E010"] == []


def test_an_unknown_payment_provider_is_a_clear_error_everywhere(settings):
    settings.PAYMENT_PROVIDER = "paypal"
    (error,) = payment_provider_known(None)
    assert error.id == "masthead.E015"
    assert (
        error.msg == "PAYMENT_PROVIDER is 'paypal', which is not a payment provider Masthead has."
    )
    assert error.hint == "Set PAYMENT_PROVIDER to one of: stripe, test."
    # Every command refuses (checks run), and so does `masthead serve`, in any environment.
    with pytest.raises(SystemCheckError, match=r"masthead\.E015"):
        call_command("check")
    assert configuration_problems() == [f"{error.msg} {error.hint}"]
    # At runtime the provider lookup names the setting instead of raising a bare KeyError.
    with pytest.raises(UnknownProvider, match="Payment provider 'paypal' is unknown"):
        get_provider()


def test_masthead_check_prints_every_refusal(production, capsys):
    production.PAYMENT_PROVIDER = "test"
    production.EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
    with pytest.raises(SystemCheckError) as raised:
        call_command("check", "--deploy")
    text = str(raised.value)
    for error_id in ("masthead.E010", "masthead.E011"):
        assert error_id in text
