"""App tokens: issued for e-mail and password, hashed at rest, revocable, rate limited."""

from __future__ import annotations

import hashlib
import json

import pytest
from django.core import mail

from masthead.accounts.actions import log_out_everywhere
from masthead.accounts.models import AppToken
from masthead.core import clock
from tests import factories

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-42"
TOKEN_URL = "/api/v1/auth/token"


def _post_json(client, url, payload, **headers):
    return client.post(url, data=json.dumps(payload), content_type="application/json", **headers)


def _error(response) -> dict:
    assert response["Content-Type"].startswith("application/json"), response.content[:200]
    return response.json()["error"]


def test_token_for_email_and_password_opens_me(client):
    reader = factories.user("app.reader@example.com")
    response = _post_json(
        client,
        TOKEN_URL,
        {"email": "app.reader@example.com", "password": PASSWORD, "name": "Tablet"},
    )
    assert response.status_code == 201
    body = response.json()
    assert body["token"].startswith("mh_") and body["name"] == "Tablet"
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {body['token']}"})
    assert me.status_code == 200
    assert me.json()["id"] == reader.pk
    assert me.json()["email"] == "app.reader@example.com"


def test_tokens_are_stored_only_as_a_digest(client):
    factories.user("app.reader@example.com")
    raw = _post_json(
        client, TOKEN_URL, {"email": "app.reader@example.com", "password": PASSWORD}
    ).json()["token"]
    stored = AppToken.objects.get()
    assert stored.digest == hashlib.sha256(raw.encode()).hexdigest()
    assert raw not in {stored.digest, stored.prefix, stored.name}
    assert raw.startswith(stored.prefix) and len(stored.prefix) < len(raw) // 4


def test_wrong_password_gets_401_and_no_token(client):
    factories.user("app.reader@example.com")
    response = _post_json(client, TOKEN_URL, {"email": "app.reader@example.com", "password": "no"})
    assert response.status_code == 401
    assert _error(response)["code"] == "invalid_credentials"
    assert not AppToken.objects.exists()


def test_unknown_email_gets_the_same_401(client):
    response = _post_json(client, TOKEN_URL, {"email": "ghost@example.com", "password": "no"})
    assert response.status_code == 401
    assert _error(response) == {
        "code": "invalid_credentials",
        "message": "The e-mail address or password is wrong.",
    }


def test_sixth_failed_attempt_is_refused_with_429_even_with_the_right_password(client):
    factories.user("app.reader@example.com")
    for _ in range(5):
        response = _post_json(
            client, TOKEN_URL, {"email": "app.reader@example.com", "password": "guess"}
        )
        assert response.status_code == 401
    response = _post_json(
        client, TOKEN_URL, {"email": "app.reader@example.com", "password": PASSWORD}
    )
    assert response.status_code == 429
    assert _error(response)["code"] == "rate_limited"
    assert not AppToken.objects.exists()


def test_web_and_api_share_one_failed_sign_in_budget(client):
    factories.user("app.reader@example.com")
    for _ in range(5):
        client.post("/accounts/login/", {"login": "app.reader@example.com", "password": "guess"})
    response = _post_json(
        client, TOKEN_URL, {"email": "app.reader@example.com", "password": PASSWORD}
    )
    assert response.status_code == 429


def test_unverified_email_is_refused_with_403_when_verification_is_mandatory(client, settings):
    settings.ACCOUNT_EMAIL_VERIFICATION = "mandatory"
    factories.user("unverified@example.com", verified=False)
    response = _post_json(
        client, TOKEN_URL, {"email": "unverified@example.com", "password": PASSWORD}
    )
    assert response.status_code == 403
    assert _error(response)["code"] == "email_unverified"
    assert not AppToken.objects.exists()
    assert all("/password/reset/" not in message.body for message in mail.outbox)


def test_inactive_reader_cannot_get_or_use_a_token(client, bearer):
    reader = factories.user("gone@example.com")
    headers = bearer(reader)
    reader.is_active = False
    reader.save(update_fields=["is_active"])
    response = _post_json(client, TOKEN_URL, {"email": "gone@example.com", "password": PASSWORD})
    assert response.status_code == 403
    assert _error(response)["code"] == "account_inactive"
    assert AppToken.objects.filter(revoked_at__isnull=True).count() == 1  # only bearer()'s
    assert client.get("/api/v1/me", headers=headers).status_code == 401


def test_malformed_json_is_a_400(client):
    response = client.post(TOKEN_URL, data="{not json", content_type="application/json")
    assert response.status_code == 400
    assert _error(response)["code"] == "bad_request"


def test_missing_password_is_a_400_naming_the_field(client):
    response = _post_json(client, TOKEN_URL, {"email": "a@example.com"})
    assert response.status_code == 400
    error = _error(response)
    assert error["code"] == "invalid_request"
    assert [field["location"] for field in error["fields"]] == ["body.credentials.password"]


def test_wrong_method_is_a_json_405(client):
    response = client.get(TOKEN_URL)
    assert response.status_code == 405
    assert _error(response)["code"] == "method_not_allowed"
    assert set(response["Allow"].replace(" ", "").split(",")) == {"POST", "DELETE"}


@pytest.mark.parametrize(
    "header",
    [
        None,
        "Bearer",
        "Bearer mh_not-a-real-token",
        "Bearer garbage",
        "Basic dXNlcjpwYXNz",
        "Token x",
    ],
)
def test_me_without_a_valid_token_is_a_json_401(client, header):
    headers = {"Authorization": header} if header is not None else {}
    response = client.get("/api/v1/me", headers=headers)
    assert response.status_code == 401
    assert _error(response)["code"] == "unauthorized"
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_deleting_the_token_signs_the_app_out(client, bearer):
    reader = factories.user()
    headers = bearer(reader)
    assert client.delete(TOKEN_URL, headers=headers).status_code == 204
    assert client.get("/api/v1/me", headers=headers).status_code == 401
    assert AppToken.objects.get().revoked_at is not None


def test_log_out_everywhere_revokes_every_app_token_of_that_reader_only(client, bearer):
    reader, other = factories.user(), factories.user()
    first, second, others = bearer(reader), bearer(reader), bearer(other)
    log_out_everywhere(reader, now=clock.now())
    assert client.get("/api/v1/me", headers=first).status_code == 401
    assert client.get("/api/v1/me", headers=second).status_code == 401
    assert client.get("/api/v1/me", headers=others).status_code == 200


def test_me_reports_the_entitlement_and_that_apps_come_with_it(client, bearer, monkeypatch):
    from masthead.api import api as api_module
    from masthead.subscriptions.entitlements import Entitlement

    reader = factories.user()
    headers = bearer(reader)
    body = client.get("/api/v1/me", headers=headers).json()
    assert body["entitlement"]["apps"] is False
    assert body["entitlement"]["reads_everything"] is False

    subscriber = Entitlement(reads_everything=True, status="active", plan_name="Monthly")
    monkeypatch.setattr(api_module, "entitlement_for", lambda user_id, now: subscriber)
    response = client.get("/api/v1/me", headers=headers)
    assert response.json()["entitlement"] == {
        "status": "active",
        "reads_everything": True,
        "apps": True,
        "plan_name": "Monthly",
        "lapsed": None,
    }
    assert "private" in response["Cache-Control"]
    assert "Authorization" in response["Vary"]


def test_unknown_api_paths_are_json_404s(client):
    for path in ["/api/v1/nope", "/api/v2/articles", "/api/"]:
        response = client.get(path)
        assert response.status_code == 404, path
        assert _error(response)["code"] == "not_found"
