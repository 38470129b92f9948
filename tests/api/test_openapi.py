"""The committed OpenAPI document matches the code, and the drift check notices when not."""

from __future__ import annotations

import json

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError

from masthead.api.management.commands.export_openapi import openapi_document


def test_committed_document_is_current():
    committed = (settings.BASE_DIR / "docs" / "openapi.json").read_text(encoding="utf-8")
    assert committed == openapi_document()


def test_export_writes_a_document_the_check_accepts(tmp_path):
    target = tmp_path / "openapi.json"
    call_command("export_openapi", output=str(target))
    schema = json.loads(target.read_text())
    assert set(schema["paths"]) == {
        "/api/v1/auth/token",
        "/api/v1/articles",
        "/api/v1/articles/{article_id}",
        "/api/v1/sections",
        "/api/v1/me",
    }
    assert schema["components"]["securitySchemes"]["AppTokenAuth"]["scheme"] == "bearer"
    call_command("export_openapi", output=str(target), check=True)


@pytest.mark.parametrize("damage", ["edit", "missing"])
def test_check_fails_with_exit_1_when_the_document_drifted(tmp_path, damage):
    target = tmp_path / "openapi.json"
    if damage == "edit":
        target.write_text(openapi_document().replace('"Sections"', '"Chapters"'))
    with pytest.raises(CommandError) as failure:
        call_command("export_openapi", output=str(target), check=True)
    assert failure.value.returncode == 1
    assert "out of date" in str(failure.value)
    if damage == "missing":
        assert not target.exists()  # --check never writes


def test_the_masthead_command_exits_1_on_drift(tmp_path):
    import os
    import subprocess
    import sys

    target = tmp_path / "openapi.json"
    target.write_text("{}\n")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "masthead.cli",
            "export_openapi",
            "--check",
            "--output",
            str(target),
        ],
        capture_output=True,
        text=True,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "masthead.settings"},
        timeout=120,
    )
    assert result.returncode == 1
    assert "out of date" in result.stderr


@pytest.mark.django_db
def test_the_served_document_is_the_committed_one(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    committed = json.loads((settings.BASE_DIR / "docs" / "openapi.json").read_text("utf-8"))
    assert response.json() == committed


def test_every_operation_documents_its_400_and_text_inputs_refuse_nul():
    schema = json.loads(openapi_document())
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            if operation.get("parameters") or operation.get("requestBody"):
                assert "400" in operation["responses"], (method, path)
    section = next(
        p
        for p in schema["paths"]["/api/v1/articles"]["get"]["parameters"]
        if p["name"] == "section"
    )
    assert section["schema"]["anyOf"][0]["pattern"] == "^[^\\x00]*$"
    token = schema["components"]["schemas"]["TokenRequest"]["properties"]
    assert {token[field]["pattern"] for field in ("email", "password", "name")} == {"^[^\\x00]*$"}
