"""A new password ends every other way in: app tokens and other browsers' sessions.

The browser that changed the password stays signed in; a reset signs nobody in. Whatever sets
the password (allauth change or reset, the admin, `set_password` in a command) does the same.
"""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.test import Client

from masthead.accounts.actions import issue_app_token, live_token
from masthead.accounts.models import AccountEvent, SessionEpoch
from masthead.core import clock
from tests import factories

pytestmark = pytest.mark.django_db

OLD = "correct-horse-42"
NEW = "brand-new-phrase-9"


def _signed_in(user, password=OLD) -> Client:
    client = Client()
    client.post("/accounts/login/", {"login": user.email, "password": password})
    assert client.session.get("_auth_user_id") == str(user.pk)
    return client


def _api_me(raw: str) -> int:
    return Client().get("/api/v1/me", headers={"Authorization": f"Bearer {raw}"}).status_code


def _signed_in_on_account_page(client: Client) -> bool:
    response = client.get("/accounts/")
    return response.status_code == 200


def test_changing_the_password_revokes_tokens_and_other_sessions_but_keeps_this_one():
    reader, bystander = factories.user(), factories.user()
    laptop, phone, theirs = _signed_in(reader), _signed_in(reader), _signed_in(bystander)
    _, raw = issue_app_token(reader, name="Tablet", now=clock.now())
    _, their_raw = issue_app_token(bystander, name="Their tablet", now=clock.now())
    assert _api_me(raw) == 200

    response = laptop.post(
        "/accounts/password/change/",
        {"oldpassword": OLD, "password1": NEW, "password2": NEW},
    )
    assert response.status_code == 302, response.content[:500]

    assert _signed_in_on_account_page(laptop)  # the browser that changed it
    assert not _signed_in_on_account_page(phone)
    assert "_auth_user_id" not in phone.session
    assert live_token(raw, now=clock.now()) is None
    assert _api_me(raw) == 401
    # Nobody else is touched.
    assert _signed_in_on_account_page(theirs)
    assert _api_me(their_raw) == 200
    assert SessionEpoch.objects.get(user=reader).epoch == 1
    event = AccountEvent.objects.filter(user=reader).latest("id")
    assert event.kind == AccountEvent.Kind.PASSWORD_CHANGED
    assert event.detail == "password changed: session epoch 1; 1 app token(s) revoked"
    # The laptop stays signed in on later requests too, and the new password signs in.
    assert _signed_in_on_account_page(laptop)
    assert _signed_in_on_account_page(_signed_in(reader, password=NEW))


def test_a_wrong_old_password_changes_nothing():
    reader = factories.user()
    laptop, phone = _signed_in(reader), _signed_in(reader)
    _, raw = issue_app_token(reader, name="Tablet", now=clock.now())
    response = laptop.post(
        "/accounts/password/change/",
        {"oldpassword": "not-it-at-all", "password1": NEW, "password2": NEW},
    )
    assert response.status_code == 200  # the form again, with its error
    assert _api_me(raw) == 200
    assert _signed_in_on_account_page(phone)
    assert not SessionEpoch.objects.filter(user=reader).exists()


def test_a_password_reset_revokes_tokens_and_every_session():
    reader = factories.user("forgetful@example.com")
    laptop = _signed_in(reader)
    _, raw = issue_app_token(reader, name="Phone", now=clock.now())

    stranger = Client()
    stranger.post("/accounts/password/reset/", {"email": "forgetful@example.com"})
    link = re.search(r"https?://[^/\s]+(/\S+)", mail.outbox[-1].body).group(1)
    form_url = stranger.get(link)["Location"]
    response = stranger.post(form_url, {"password1": NEW, "password2": NEW})
    assert response.status_code == 302

    assert _api_me(raw) == 401
    assert not _signed_in_on_account_page(laptop)
    assert "_auth_user_id" not in stranger.session  # a reset signs nobody in
    assert AccountEvent.objects.filter(
        user=reader, kind=AccountEvent.Kind.PASSWORD_CHANGED
    ).exists()


def test_a_password_set_outside_the_site_revokes_too():
    """The admin and `manage.py changepassword` end in set_password() and save()."""
    reader = factories.user()
    laptop = _signed_in(reader)
    _, raw = issue_app_token(reader, name="Phone", now=clock.now())
    reader.set_password(NEW)
    reader.save()
    assert _api_me(raw) == 401
    assert not _signed_in_on_account_page(laptop)


def test_saving_a_reader_without_a_new_password_revokes_nothing():
    reader = factories.user()
    laptop = _signed_in(reader)  # signing in saves last_login
    _, raw = issue_app_token(reader, name="Phone", now=clock.now())
    reader.first_name = "Ana"
    reader.save()
    assert _api_me(raw) == 200
    assert _signed_in_on_account_page(laptop)
    assert not SessionEpoch.objects.filter(user=reader).exists()


def test_a_password_hash_upgrade_at_sign_in_is_not_a_new_password(settings):
    """Django rehashes a password on sign-in when the hasher changes; that ends nothing."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    reader = factories.user()
    _, raw = issue_app_token(reader, name="Phone", now=clock.now())
    settings.PASSWORD_HASHERS = [
        "django.contrib.auth.hashers.PBKDF2PasswordHasher",
        "django.contrib.auth.hashers.MD5PasswordHasher",
    ]
    assert reader.check_password(OLD)
    reader.refresh_from_db()
    assert reader.password.startswith("pbkdf2_sha256$")
    assert _api_me(raw) == 200
    assert not SessionEpoch.objects.filter(user=reader).exists()
