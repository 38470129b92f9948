import pytest
from django.core.management import call_command


@pytest.mark.django_db
def test_migrations_are_complete():
    call_command("makemigrations", "--check", "--dry-run", verbosity=0)


def test_production_check_refuses_demo_defaults(settings):
    from masthead.core.checks import production_configuration

    settings.DEBUG = True
    settings.SECRET_KEY = settings.DEFAULT_SECRET_KEY
    settings.ALLOWED_HOSTS = []
    ids = {error.id for error in production_configuration(None)}
    assert ids == {"masthead.E001", "masthead.E002", "masthead.E003"}


def test_production_check_accepts_safe_configuration(settings):
    from masthead.core.checks import production_configuration

    settings.DEBUG = False
    settings.SECRET_KEY = "x" * 50
    settings.ALLOWED_HOSTS = ["news.example.org"]
    settings.DEMO_CLOCK_ENABLED = False
    assert production_configuration(None) == []
