"""The account overview, log out everywhere and app tokens: who may see and change what."""

from __future__ import annotations

import pytest
from allauth.account.models import EmailAddress
from django.test import Client

from masthead.accounts.actions import issue_app_token, live_token, log_out_everywhere
from masthead.accounts.models import AccountEvent, AppToken, SessionEpoch
from masthead.core import clock
from tests import factories

pytestmark = pytest.mark.django_db


def _signed_in(user) -> Client:
    client = Client()
    client.post("/accounts/login/", {"login": user.email, "password": "correct-horse-42"})
    assert client.session.get("_auth_user_id") == str(user.pk)
    return client


def _token(user, name="Phone"):
    return issue_app_token(user, name=name, now=clock.now())


def test_overview_sends_anonymous_readers_to_sign_in(client):
    response = client.get("/accounts/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/accounts/"


def test_overview_shows_the_owner_their_account(client):
    reader = factories.user("owner@example.com", verified=False)
    token, raw = _token(reader, "Kitchen tablet")
    client.force_login(reader)
    response = client.get("/accounts/")
    page = response.content.decode()
    assert response.status_code == 200
    assert "no-cache" in response["Cache-Control"] or "private" in response["Cache-Control"]
    assert "owner@example.com" in page
    assert "Not verified yet." in page
    assert 'href="/account/subscription/"' in page
    assert 'href="/accounts/password/change/"' in page
    assert 'action="/accounts/logout-everywhere/"' in page
    assert "Kitchen tablet" in page and token.prefix in page
    assert raw not in page


def test_overview_says_verified_once_the_address_is_confirmed(client):
    reader = factories.user("owner@example.com", verified=True)
    assert EmailAddress.objects.get(user=reader).verified
    client.force_login(reader)
    page = client.get("/accounts/").content.decode()
    assert "Verified" in page and "Not verified" not in page


def test_overview_never_shows_another_readers_account(client):
    owner, other = factories.user("owner@example.com"), factories.user("other@example.com")
    _token(owner, "Owner phone")
    client.force_login(other)
    page = client.get("/accounts/").content.decode()
    assert "other@example.com" in page
    assert "owner@example.com" not in page and "Owner phone" not in page


def test_staff_see_their_own_account_not_readers(client):
    owner = factories.user("owner@example.com")
    _token(owner, "Owner phone")
    editor = factories.user("editor@example.com", staff=True)
    client.force_login(editor)
    page = client.get("/accounts/").content.decode()
    assert "editor@example.com" in page and "Owner phone" not in page


# ---------------------------------------------------------------- revoking app tokens


def test_owner_revokes_their_token(client):
    owner = factories.user()
    token, raw = _token(owner)
    client.force_login(owner)
    response = client.post(f"/accounts/tokens/{token.pk}/revoke/")
    assert response.status_code == 302 and response["Location"] == "/accounts/"
    assert live_token(raw, now=clock.now()) is None
    assert list(AccountEvent.objects.filter(user=owner).values_list("kind", flat=True)) == [
        "token_issued",
        "token_revoked",
    ]


def test_revoking_twice_changes_nothing_the_second_time(client):
    owner = factories.user()
    token, _ = _token(owner)
    client.force_login(owner)
    client.post(f"/accounts/tokens/{token.pk}/revoke/")
    revoked_at = AppToken.objects.get().revoked_at
    assert client.post(f"/accounts/tokens/{token.pk}/revoke/").status_code == 302
    assert AppToken.objects.get().revoked_at == revoked_at
    assert AccountEvent.objects.filter(kind="token_revoked").count() == 1


@pytest.mark.parametrize("who", ["another reader", "staff"])
def test_nobody_else_can_revoke_a_readers_token(client, who):
    owner = factories.user()
    token, raw = _token(owner)
    client.force_login(factories.user(staff=who == "staff"))
    assert client.post(f"/accounts/tokens/{token.pk}/revoke/").status_code == 404
    assert live_token(raw, now=clock.now()) is not None


def test_anonymous_cannot_revoke_a_token(client):
    token, raw = _token(factories.user())
    response = client.post(f"/accounts/tokens/{token.pk}/revoke/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    assert live_token(raw, now=clock.now()) is not None


def test_revoking_needs_a_post_and_a_csrf_token():
    owner = factories.user()
    token, raw = _token(owner)
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(owner)
    assert strict.get(f"/accounts/tokens/{token.pk}/revoke/").status_code == 405
    assert strict.post(f"/accounts/tokens/{token.pk}/revoke/").status_code == 403
    assert live_token(raw, now=clock.now()) is not None


def test_a_huge_token_id_is_a_404_not_a_500(client):
    client.force_login(factories.user())
    assert client.post(f"/accounts/tokens/{10**30}/revoke/").status_code == 404


# ---------------------------------------------------------------- log out everywhere


def test_log_out_everywhere_ends_every_session_and_token_of_that_reader_only():
    reader, bystander = factories.user(), factories.user()
    laptop, phone, theirs = _signed_in(reader), _signed_in(reader), _signed_in(bystander)
    _, raw = _token(reader)

    response = laptop.post("/accounts/logout-everywhere/")
    assert response.status_code == 302 and response["Location"] == "/accounts/login/"
    assert "_auth_user_id" not in laptop.session

    assert phone.get("/accounts/")["Location"].startswith("/accounts/login/")
    assert "_auth_user_id" not in phone.session
    assert live_token(raw, now=clock.now()) is None
    assert theirs.get("/accounts/").status_code == 200
    assert SessionEpoch.objects.get(user=reader).epoch == 1
    assert not SessionEpoch.objects.filter(user=bystander).exists()


def test_signing_in_again_after_log_out_everywhere_works():
    reader = factories.user()
    old = _signed_in(reader)
    log_out_everywhere(reader, now=clock.now())
    fresh = _signed_in(reader)
    assert fresh.get("/accounts/").status_code == 200
    assert old.get("/accounts/").status_code == 302


def test_log_out_everywhere_says_what_happened():
    reader = factories.user()
    laptop = _signed_in(reader)
    page = laptop.post("/accounts/logout-everywhere/", follow=True).content.decode()
    assert "You are signed out on every browser and app." in page


def test_log_out_everywhere_needs_a_post_and_a_signed_in_reader(client):
    reader = factories.user()
    client.force_login(reader)
    assert client.get("/accounts/logout-everywhere/").status_code == 405
    assert client.get("/accounts/").status_code == 200
    anonymous = Client()
    response = anonymous.post("/accounts/logout-everywhere/")
    assert response["Location"].startswith("/accounts/login/")
    assert not SessionEpoch.objects.exists()


# ---------------------------------------------------------------- readers are not editors


@pytest.mark.parametrize("path", ["/admin/", "/django-admin/"])
def test_a_reader_never_reaches_the_admin(client, path):
    client.force_login(factories.user())
    response = client.get(path)
    assert response.status_code == 302
    assert "login" in response["Location"]


def test_a_reader_cannot_sign_in_to_the_admin_with_their_password(client):
    reader = factories.user("reader@example.com")
    client.post(
        "/django-admin/login/?next=/django-admin/",
        {"username": reader.username, "password": "correct-horse-42"},
    )
    assert client.get("/django-admin/").status_code == 302
    client.post("/admin/login/", {"username": reader.username, "password": "correct-horse-42"})
    assert client.get("/admin/").status_code == 302


def test_an_editor_reaches_the_admin(client):
    client.force_login(factories.user(staff=True))
    assert client.get("/admin/").status_code == 200


def test_signing_up_never_makes_an_editor(client):
    client.post(
        "/accounts/signup/",
        {
            "email": "eager@example.com",
            "password1": "a-long-pass-phrase",
            "password2": "a-long-pass-phrase",
        },
    )
    assert client.get("/admin/").status_code == 302
    assert client.get("/django-admin/").status_code == 302


# ---------------------------------------------------------------- the header links


def test_header_offers_sign_in_and_subscribe_to_anonymous_readers(client):
    page = client.get("/accounts/login/").content.decode()
    assert 'href="/accounts/login/"' in page and ">Sign in<" in page
    assert 'href="/offers/"' in page and ">Subscribe<" in page
    assert "Your account" not in page


def test_header_offers_the_account_and_a_logout_form_to_signed_in_readers(client):
    client.force_login(factories.user())
    page = client.get("/accounts/").content.decode()
    assert 'href="/accounts/">Your account<' in page
    assert 'method="post" action="/accounts/logout/"' in page
    assert ">Sign in<" not in page
