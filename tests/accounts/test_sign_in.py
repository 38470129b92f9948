"""Sign-up, verification, password and code sign-in, reset, logout and rate limiting."""

from __future__ import annotations

import re

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.core import mail

from tests import factories

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-42"


def _link_in(message) -> str:
    match = re.search(r"https?://[^/\s]+(/\S+)", message.body)
    assert match, message.body
    return match.group(1)


def _signed_in_user_id(client) -> int | None:
    value = client.session.get("_auth_user_id")
    return int(value) if value else None


def test_sign_up_by_email_signs_in_and_sends_a_verification_link(client):
    response = client.post(
        "/accounts/signup/",
        {
            "email": "new.reader@example.com",
            "password1": "a-long-pass-phrase",
            "password2": "a-long-pass-phrase",
        },
    )
    assert response.status_code == 302
    user = get_user_model().objects.get(email="new.reader@example.com")
    assert not user.is_staff and not user.is_superuser
    assert _signed_in_user_id(client) == user.pk
    address = EmailAddress.objects.get(user=user)
    assert (address.email, address.verified, address.primary) == (
        "new.reader@example.com",
        False,
        True,
    )
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["new.reader@example.com"]

    confirm_url = _link_in(mail.outbox[0])
    assert client.get(confirm_url).status_code == 200
    assert client.post(confirm_url).status_code == 302
    address.refresh_from_db()
    assert address.verified is True


def test_sign_up_with_mismatched_passwords_shows_the_error_and_creates_nobody(client):
    response = client.post(
        "/accounts/signup/",
        {
            "email": "typo@example.com",
            "password1": "a-long-pass-phrase",
            "password2": "another-phrase",
        },
    )
    assert response.status_code == 200
    assert "You must type the same password each time." in response.content.decode()
    assert not get_user_model().objects.filter(email="typo@example.com").exists()


def test_sign_in_with_password(client):
    reader = factories.user("ines@example.com")
    response = client.post("/accounts/login/", {"login": "ines@example.com", "password": PASSWORD})
    assert response.status_code == 302
    assert _signed_in_user_id(client) == reader.pk


def test_wrong_password_is_refused_with_a_message(client):
    factories.user("ines@example.com")
    response = client.post("/accounts/login/", {"login": "ines@example.com", "password": "nope"})
    assert response.status_code == 200
    assert "The email address and/or password you specified are not correct." in (
        response.content.decode()
    )
    assert _signed_in_user_id(client) is None


def test_sixth_failed_attempt_is_refused_even_with_the_right_password(client):
    reader = factories.user("target@example.com")
    for _ in range(5):
        response = client.post("/accounts/login/", {"login": "target@example.com", "password": "x"})
        assert "are not correct" in response.content.decode()
    response = client.post(
        "/accounts/login/", {"login": "target@example.com", "password": PASSWORD}
    )
    assert response.status_code == 200
    assert "Too many failed login attempts. Try again later." in response.content.decode()
    assert _signed_in_user_id(client) is None
    assert reader.pk  # the account itself is untouched: no lockout state is written


def test_five_failed_attempts_still_allow_the_right_password_on_the_fifth(client):
    reader = factories.user("target@example.com")
    for _ in range(4):
        client.post("/accounts/login/", {"login": "target@example.com", "password": "x"})
    client.post("/accounts/login/", {"login": "target@example.com", "password": PASSWORD})
    assert _signed_in_user_id(client) == reader.pk


def test_sign_in_with_an_emailed_code(client):
    reader = factories.user("coder@example.com")
    response = client.post("/accounts/login/code/", {"email": "coder@example.com"})
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    code = re.search(r"^\s*([A-Z0-9]{4}-[A-Z0-9]{4})\s*$", mail.outbox[0].body, re.MULTILINE)
    assert code, mail.outbox[0].body
    response = client.post(response["Location"], {"code": code.group(1)})
    assert response.status_code == 302
    assert _signed_in_user_id(client) == reader.pk


def test_a_wrong_code_does_not_sign_in(client):
    factories.user("coder@example.com")
    response = client.post("/accounts/login/code/", {"email": "coder@example.com"})
    response = client.post(response["Location"], {"code": "WRONG1"})
    assert response.status_code == 200
    assert "Incorrect code." in response.content.decode()
    assert _signed_in_user_id(client) is None


def test_password_reset_by_emailed_link(client):
    reader = factories.user("forgetful@example.com")
    response = client.post("/accounts/password/reset/", {"email": "forgetful@example.com"})
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    reset_url = _link_in(mail.outbox[0])
    form_url = client.get(reset_url)["Location"]  # allauth hides the key behind a redirect
    response = client.post(
        form_url, {"password1": "brand-new-phrase-9", "password2": "brand-new-phrase-9"}
    )
    assert response.status_code == 302
    reader.refresh_from_db()
    assert reader.check_password("brand-new-phrase-9")
    assert not reader.check_password(PASSWORD)


def test_password_reset_for_an_unknown_address_reveals_nothing_and_sends_no_reset(client):
    response = client.post("/accounts/password/reset/", {"email": "nobody@example.com"})
    assert response.status_code == 302
    assert all("reset" not in m.subject.lower() or not _has_key(m) for m in mail.outbox)


def _has_key(message) -> bool:
    return "/password/reset/key/" in message.body


def test_logout_needs_a_post(client):
    reader = factories.user()
    client.force_login(reader)
    assert client.get("/accounts/logout/").status_code == 200
    assert _signed_in_user_id(client) == reader.pk
    assert client.post("/accounts/logout/").status_code == 302
    assert _signed_in_user_id(client) is None


def test_signing_in_leaves_no_flash_message_for_later(client):
    factories.user("quiet@example.com")
    client.post("/accounts/login/", {"login": "quiet@example.com", "password": PASSWORD})
    page = client.get("/accounts/").content.decode()
    assert "Successfully signed in" not in page
