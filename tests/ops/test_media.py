"""Media that instances share: Wagtail uploads and renditions land in an S3 bucket (moto in
server mode on 127.0.0.1) and their URLs point at the bucket or its custom domain; the
settings read the bucket from the environment; `masthead check` refuses local media with
several instances."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image
from wagtail.images import get_image_model

from masthead.core.checks import production_configuration
from tests import factories
from tests.ops import s3

BUCKET = "masthead-media"
SRC = Path(__file__).resolve().parents[2] / "src"


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    with s3.moto_server() as url:
        s3.make_bucket(url, BUCKET)
        yield url


def _upload_through_wagtail_admin(client: Any, title: str) -> Any:
    from wagtail.models import Collection

    if not Collection.objects.exists():  # a transactional test's flush removed Wagtail's root
        Collection.add_root(name="Root")
    editor = factories.user(staff=True)
    client.force_login(editor)
    upload = SimpleUploadedFile("harbour.png", s3.png_bytes(), content_type="image/png")
    response = client.post(reverse("wagtailimages:add"), {"title": title, "file": upload})
    assert response.status_code == 302, response.content[:2000]
    return get_image_model().objects.get(title=title)


@pytest.mark.django_db
def test_an_uploaded_image_and_its_rendition_land_in_the_bucket(client, settings, endpoint):
    settings.STORAGES = {**settings.STORAGES, "default": s3.s3_storage(endpoint, BUCKET)}
    before = set(s3.keys(endpoint, BUCKET))

    image = _upload_through_wagtail_admin(client, "Harbour at dawn")
    rendition = image.get_rendition("fill-80x60")

    added = set(s3.keys(endpoint, BUCKET)) - before
    assert added == {image.file.name, rendition.file.name}
    assert image.file.name.startswith("original_images/harbour")
    assert rendition.file.name.startswith("images/harbour") and ".fill-80x60" in rendition.file.name
    assert rendition.url == f"{endpoint}/{BUCKET}/{rendition.file.name}"
    assert image.file.url == f"{endpoint}/{BUCKET}/{image.file.name}"
    body = s3.client(endpoint).get_object(Bucket=BUCKET, Key=rendition.file.name)["Body"].read()
    assert body.startswith(b"\x89PNG")  # a real rendition, 80x60
    assert Image.open(io.BytesIO(body)).size == (80, 60)


@pytest.mark.django_db
def test_urls_point_at_the_custom_domain(client, settings, endpoint):
    storage = s3.s3_storage(endpoint, BUCKET, custom_domain="media.example.org")
    settings.STORAGES = {**settings.STORAGES, "default": storage}

    image = _upload_through_wagtail_admin(client, "Custom domain")
    rendition = image.get_rendition("width-60")

    assert rendition.url == f"https://media.example.org/{rendition.file.name}"
    assert image.file.url == f"https://media.example.org/{image.file.name}"
    assert rendition.file.name in s3.keys(endpoint, BUCKET)


@pytest.mark.django_db
def test_nothing_is_written_to_local_media_with_a_bucket(client, settings, endpoint, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    settings.STORAGES = {**settings.STORAGES, "default": s3.s3_storage(endpoint, BUCKET)}
    image = _upload_through_wagtail_admin(client, "Nothing local")
    image.get_rendition("fill-20x20")
    assert list(tmp_path.rglob("*")) == []


def _settings_from(env: dict[str, str]) -> dict[str, Any]:
    code = (
        "import json; from masthead import settings as s; "
        "print(json.dumps({'default': s.STORAGES['default'], 'serve': s.SERVE_MEDIA, "
        "'media_url': s.MEDIA_URL}))"
    )
    clean = {k: v for k, v in os.environ.items() if not k.startswith("MASTHEAD_")}
    clean["PYTHONPATH"] = str(SRC)  # this checkout's masthead, not the installed one
    out = subprocess.run(
        [sys.executable, "-c", code],
        env={**clean, **env},
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout)


def test_settings_read_the_bucket_from_the_environment():
    read = _settings_from(
        {
            "MASTHEAD_MEDIA_S3_BUCKET": "news-media",
            "MASTHEAD_MEDIA_S3_ENDPOINT_URL": "https://s3.eu-central-1.example.net",
            "MASTHEAD_MEDIA_S3_REGION": "eu-central-1",
            "MASTHEAD_MEDIA_S3_ACCESS_KEY_ID": "AKIAEXAMPLE",
            "MASTHEAD_MEDIA_S3_SECRET_ACCESS_KEY": "secret-example",
            "MASTHEAD_MEDIA_S3_CUSTOM_DOMAIN": "media.example.org",
        }
    )
    assert read["default"]["BACKEND"] == "storages.backends.s3.S3Storage"
    options = read["default"]["OPTIONS"]
    assert options["bucket_name"] == "news-media"
    assert options["endpoint_url"] == "https://s3.eu-central-1.example.net"
    assert options["region_name"] == "eu-central-1"
    assert (options["access_key"], options["secret_key"]) == ("AKIAEXAMPLE", "secret-example")
    assert options["custom_domain"] == "media.example.org"
    assert options["querystring_auth"] is False and options["file_overwrite"] is False
    assert read["serve"] is False  # the bucket serves media, not the app
    assert read["media_url"] == "https://media.example.org/"


@pytest.mark.parametrize(
    ("env", "serves"),
    [
        ({}, True),  # the demo and development
        ({"MASTHEAD_ENV": "production"}, False),
        ({"MASTHEAD_ENV": "production", "MASTHEAD_SERVE_MEDIA": "true"}, True),
        ({"MASTHEAD_SERVE_MEDIA": "false"}, False),
    ],
)
def test_the_app_serves_media_only_in_the_demo_unless_asked(env, serves):
    read = _settings_from(env)
    assert read["serve"] is serves
    assert read["default"] == {"BACKEND": "django.core.files.storage.FileSystemStorage"}


LOCAL = {"BACKEND": "django.core.files.storage.FileSystemStorage"}


@pytest.fixture
def production(settings: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    from tests.core.test_check import POSTGRES, REDIS, SAFE

    for name, value in SAFE.items():
        setattr(settings, name, value)
    monkeypatch.setattr("masthead.core.checks.database_engine", lambda: POSTGRES)
    settings.CACHES = REDIS
    settings.MEDIA_SHARED_FILESYSTEM = False
    return settings


def _ids() -> list[str]:
    return [error.id for error in production_configuration(None)]


def test_check_refuses_local_media_with_several_instances(production):
    production.STORAGES = {**production.STORAGES, "default": LOCAL}
    production.APP_INSTANCES = 2
    errors = [e for e in production_configuration(None) if e.id == "masthead.E030"]
    assert len(errors) == 1 and _ids() == ["masthead.E030"]
    assert "MASTHEAD_INSTANCES=2" in errors[0].msg
    assert "MASTHEAD_MEDIA_S3_BUCKET" in errors[0].hint


def test_check_accepts_local_media_on_one_instance_a_bucket_or_a_shared_filesystem(
    production, endpoint
):
    production.STORAGES = {**production.STORAGES, "default": LOCAL}
    production.APP_INSTANCES = 1
    assert _ids() == []
    production.APP_INSTANCES = 3
    production.MEDIA_SHARED_FILESYSTEM = True
    assert _ids() == []
    production.MEDIA_SHARED_FILESYSTEM = False
    production.STORAGES = {**production.STORAGES, "default": s3.s3_storage(endpoint, BUCKET)}
    assert _ids() == []
