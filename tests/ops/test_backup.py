"""`masthead backup` then `masthead restore` into an EMPTY database (a new SQLite file, or a
new PostgreSQL database) gives back the articles, readers, subscriptions, payments and the
ledger (counts and a content hash of every row) and the media files; the restore refuses a
non-empty database, a damaged archive and a backup of another engine."""

from __future__ import annotations

import hashlib
import io
import json
import os
import subprocess
import sys
import tarfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.utils import timezone

from masthead.billing.models import LedgerEntry
from masthead.core import backup
from tests.ops import newsroom

SRC = Path(__file__).resolve().parents[2] / "src"
ON_POSTGRES = django_settings.USING_POSTGRES

FINGERPRINT = (
    "import json, django; django.setup(); "
    "from masthead.core.backup import fingerprint, row_counts; "
    "from django.db.models import Sum; from masthead.billing.models import LedgerEntry; "
    "print(json.dumps({'content': fingerprint(), 'counts': row_counts(), "
    "'ledger_sum': LedgerEntry.objects.aggregate(s=Sum('amount_minor'))['s']}))"
)


@pytest.fixture
def media_root(settings: Any, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def empty_database_url(tmp_path: Path) -> Iterator[str]:
    """A database with nothing in it, of the engine under test."""
    if not ON_POSTGRES:
        yield f"sqlite:///{tmp_path / 'restored.sqlite3'}"
        return
    import psycopg

    name = f"mh_ops_data_restore_{uuid.uuid4().hex[:8]}"
    db = django_settings.DATABASES["default"]
    admin = f"postgresql://{db['USER']}@{db['HOST']}:{db['PORT']}/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{name}"
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _masthead(env: dict[str, str], *args: str, code: str | None = None) -> str:
    argv = [sys.executable, "-c", code] if code else [sys.executable, "-m", "masthead.cli", *args]
    clean = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "MEDIA_ROOT"}}
    result = subprocess.run(
        argv,
        env={**clean, "PYTHONPATH": str(SRC), "DJANGO_SETTINGS_MODULE": "masthead.settings", **env},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def _media_digests(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.mark.django_db(transaction=True)
def test_round_trip_into_an_empty_database(media_root, tmp_path, empty_database_url):
    room = newsroom.build()
    source = backup.fingerprint()
    source_counts = backup.row_counts()
    source_media = _media_digests(media_root)
    ledger_sum = sum(LedgerEntry.objects.values_list("amount_minor", flat=True))
    assert source["articles"]["count"] == 2 and source["readers"]["count"] == 4
    assert source["subscriptions"]["count"] == 3 and source["payments"]["count"] == 3
    assert source["ledger"]["count"] == 3  # two charges and a refund
    assert len(source_media) == 2  # the original and its rendition

    archive = tmp_path / "site.tar.gz"
    call_command("backup", "--output", str(archive), stdout=io.StringIO())

    manifest = backup.read_manifest(archive)
    assert manifest["content"] == source
    assert manifest["counts"] == source_counts
    assert manifest["database"]["vendor"] == connection.vendor
    assert manifest["media"]["files"] == 2
    assert "wagtailcore.0001_initial" in manifest["migrations"]
    if ON_POSTGRES:
        assert (
            manifest["versions"]["pg_dump"].split(".")[0] == backup.server_version().split(".")[0]
        )
    with tarfile.open(archive) as tar:
        names = set(tar.getnames())
    assert {f"media/{name}" for name in source_media} <= names

    restored_media = tmp_path / "restored-media"
    env = {"DATABASE_URL": empty_database_url, "MEDIA_ROOT": str(restored_media)}
    out = _masthead(env, "restore", str(archive))
    assert "2 articles, 4 readers, 3 subscriptions, 3 ledger entries, 2 media files" in out

    restored = json.loads(_masthead(env, code=FINGERPRINT))
    assert restored["content"] == source
    assert restored["counts"] == source_counts
    assert restored["ledger_sum"] == ledger_sum
    assert _media_digests(restored_media) == source_media
    assert room.image.file.name in source_media


@pytest.mark.django_db(transaction=True)
def test_restore_refuses_a_database_that_is_not_empty(media_root, tmp_path):
    newsroom.build()
    archive = tmp_path / "site.tar.gz"
    backup.backup(archive, now=timezone.now())
    with pytest.raises(CommandError, match="The database is not empty"):
        call_command("restore", str(archive))
    assert LedgerEntry.objects.count() == 3  # untouched


@pytest.mark.django_db(transaction=True)
def test_restore_force_replaces_what_the_database_holds(media_root, tmp_path):
    room = newsroom.build()
    archive = tmp_path / "site.tar.gz"
    backup.backup(archive, now=timezone.now())
    before = backup.fingerprint()
    from tests import factories

    factories.user("after-the-backup@example.com")
    default_storage.delete(room.image.file.name)

    call_command("restore", str(archive), "--force", stdout=io.StringIO())

    assert backup.fingerprint() == before
    assert default_storage.exists(room.image.file.name)


@pytest.mark.django_db(transaction=True)
def test_a_damaged_or_foreign_archive_is_refused_before_anything_changes(media_root, tmp_path):
    newsroom.build()
    archive = tmp_path / "site.tar.gz"
    backup.backup(archive, now=timezone.now())

    damaged = tmp_path / "damaged.tar.gz"
    with tarfile.open(archive) as src, tarfile.open(damaged, "w:gz") as dst:
        for member in src.getmembers():
            data = src.extractfile(member).read()
            if member.name.startswith("media/original_images/"):
                data = data[:-1] + b"X"
            dst.addfile(member, io.BytesIO(data))
    with pytest.raises(CommandError, match=r"damaged \(checksum mismatch\)"):
        call_command("restore", str(damaged), "--force")

    manifest = backup.read_manifest(archive)
    other = "sqlite" if ON_POSTGRES else "postgresql"
    with pytest.raises(backup.BackupError, match=f"backup is of a {other} database"):
        backup.check_restorable({**manifest, "database": {"vendor": other}}, force=True)
    with pytest.raises(backup.BackupError, match="made by newer code"):
        newer = [*manifest["migrations"], "billing.9999_from_the_future"]
        backup.check_restorable({**manifest, "migrations": newer}, force=True)
    assert LedgerEntry.objects.count() == 3


@pytest.mark.skipif(not ON_POSTGRES, reason="pg_dump's version matters on PostgreSQL only")
@pytest.mark.django_db
def test_a_pg_dump_of_another_major_version_is_refused(monkeypatch):
    monkeypatch.setattr(backup, "tool_version", lambda name: "99.1")
    with pytest.raises(backup.BackupError, match=r"pg_dump is version 99\.1 but the PostgreSQL"):
        backup.check_pg_tool("pg_dump")


def test_prune_keeps_the_newest(tmp_path):
    for stamp in ("20260101T000000Z", "20260102T000000Z", "20260103T000000Z"):
        (tmp_path / f"masthead-{stamp}.tar.gz").write_bytes(b"x")
    deleted = backup.prune(tmp_path, 2)
    assert [p.name for p in deleted] == ["masthead-20260101T000000Z.tar.gz"]
    assert len(list(tmp_path.iterdir())) == 2
