"""Backups: one archive with the database, the media and a manifest; and its restore.

The archive is a gzipped tar:

    manifest.json       versions, migrations applied, row counts, content hashes, checksums
    database.dump       PostgreSQL: `pg_dump --format=custom` (restored by `pg_restore`)
    database.sqlite3    SQLite: a consistent copy through SQLite's online backup API
    media/<name>        every file of the default storage (local disk or the S3 bucket)

The restore checks the archive against its manifest (every member's SHA-256, the database
engine, the migrations this code knows) before it touches anything, refuses a database that
already has tables unless forced, and after restoring compares the row counts and content
hashes with the manifest. See docs/operations.md, "Backups and restore", and decision 0028.

Core knows no domain: the tables it counts and hashes are named by label, read through
`apps.get_model`.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import platform
import re
import secrets
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import django
from django.apps import apps
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import Storage, default_storage
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.loader import MigrationLoader

FORMAT = 1
MANIFEST = "manifest.json"
PG_MEMBER = "database.dump"
SQLITE_MEMBER = "database.sqlite3"
MEDIA_PREFIX = "media/"


def hashed_tables() -> dict[str, str]:
    """The tables whose content a restore must give back exactly (counts and a hash)."""
    return {
        "articles": "newsroom.articlepage",
        "readers": settings.AUTH_USER_MODEL.lower(),
        "subscriptions": "subscriptions.subscription",
        "subscription_events": "subscriptions.subscriptionevent",
        "payments": "billing.payment",
        "ledger": "billing.ledgerentry",
        "images": "wagtailimages.image",
    }


class BackupError(Exception):
    """A backup or restore that cannot go on; the message says why and what to do."""


# ---- what a database holds ----------------------------------------------------------------


def _rows(label: str) -> list[tuple[str, ...]]:
    model = apps.get_model(label)
    fields = list(model._meta.concrete_fields)
    rows = model._base_manager.order_by("pk").values_list(*[f.attname for f in fields])
    return [
        tuple(_canonical(f, value) for f, value in zip(fields, row, strict=True)) for row in rows
    ]


def _canonical(model_field: Any, value: Any) -> str:
    """A stable text for a stored value (a StreamField's value back to its stored JSON)."""
    if value is not None and not isinstance(value, str | int | float | bool | datetime):
        value = model_field.get_prep_value(value)
        if isinstance(value, str) and value[:1] in "[{":
            value = json.loads(value)
    if isinstance(value, dict | list):
        return json.dumps(value, sort_keys=True, default=str)
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    return repr(value)


def fingerprint() -> dict[str, dict[str, Any]]:
    """Count and SHA-256 of every row (every concrete field) of the tables that matter."""
    result: dict[str, dict[str, Any]] = {}
    for name, label in hashed_tables().items():
        rows = _rows(label)
        digest = hashlib.sha256()
        for row in rows:
            digest.update(json.dumps(row).encode())
        result[name] = {"table": label, "count": len(rows), "sha256": digest.hexdigest()}
    return result


def row_counts() -> dict[str, int]:
    """Rows per model, every installed model (unmanaged and proxy models left out)."""
    counts = {}
    for model in apps.get_models():
        meta = model._meta
        if meta.proxy or not meta.managed:
            continue
        counts[meta.label_lower] = model._base_manager.count()
    return dict(sorted(counts.items()))


def applied_migrations() -> list[str]:
    loader = MigrationLoader(connections[DEFAULT_DB_ALIAS], ignore_no_migrations=True)
    return sorted(f"{app}.{name}" for app, name in loader.applied_migrations)


def known_migrations() -> set[str]:
    loader = MigrationLoader(None, ignore_no_migrations=True)
    return {f"{app}.{name}" for app, name in loader.disk_migrations}


def database_has_tables() -> bool:
    connection = connections[DEFAULT_DB_ALIAS]
    with connection.cursor() as cursor:
        return bool(connection.introspection.table_names(cursor))


# ---- PostgreSQL tools ---------------------------------------------------------------------


def _pg_tool(name: str) -> str:
    folder = os.environ.get("MASTHEAD_PG_BIN", "")
    path = str(Path(folder) / name) if folder else shutil.which(name)
    if not path or not Path(path).exists():
        raise BackupError(
            f"{name} was not found. Install the PostgreSQL client of the server's major version "
            f"(apt-get install postgresql-client-<major>) or set MASTHEAD_PG_BIN to its folder."
        )
    return path


def _major(version_text: str) -> int:
    found = re.search(r"(\d+)(?:\.\d+)?", version_text)
    if not found:
        raise BackupError(f"Cannot read a PostgreSQL version from {version_text!r}.")
    return int(found.group(1))


def server_version() -> str:
    with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
        cursor.execute("SHOW server_version")
        return str(cursor.fetchone()[0]).split()[0]


def tool_version(name: str) -> str:
    out = subprocess.run(
        [_pg_tool(name), "--version"], capture_output=True, text=True, check=True
    ).stdout
    found = re.search(r"\(PostgreSQL\)\s+(\S+)", out)  # "pg_dump (PostgreSQL) 15.20 (Debian ...)"
    return found.group(1) if found else out.strip().split()[-1]


def check_pg_tool(name: str) -> str:
    """The tool's version; refuses one whose major version is not the server's."""
    tool, server = tool_version(name), server_version()
    if _major(tool) != _major(server):
        raise BackupError(
            f"{name} is version {tool} but the PostgreSQL server is {server}: a dump or "
            f"restore needs the client tools of the server's major version "
            f"({_major(server)}). Install postgresql-client-{_major(server)} and set "
            f"MASTHEAD_PG_BIN=/usr/lib/postgresql/{_major(server)}/bin."
        )
    return tool


def _pg_env() -> dict[str, str]:
    db: dict[str, Any] = dict(settings.DATABASES[DEFAULT_DB_ALIAS])
    env = dict(os.environ)
    for key, var in (
        ("HOST", "PGHOST"),
        ("PORT", "PGPORT"),
        ("USER", "PGUSER"),
        ("PASSWORD", "PGPASSWORD"),
    ):
        if db.get(key):
            env[var] = str(db[key])
    env["PGDATABASE"] = str(connections[DEFAULT_DB_ALIAS].settings_dict["NAME"])
    return env


def _run(argv: list[str], what: str) -> None:
    result = subprocess.run(argv, env=_pg_env(), capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise BackupError(f"{what} failed (exit {result.returncode}): {result.stderr.strip()}")


# ---- the archive --------------------------------------------------------------------------


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def media_names(storage: Storage | None = None, folder: str = "") -> Iterator[str]:
    """Every file of the storage (recursively); a missing local MEDIA_ROOT holds none."""
    storage = storage or default_storage
    try:
        folders, files = storage.listdir(folder)
    except FileNotFoundError:
        return
    for name in sorted(files):
        yield f"{folder}/{name}" if folder else name
    for sub in sorted(folders):
        yield from media_names(storage, f"{folder}/{sub}" if folder else sub)


def _storage_kind() -> str:
    storages: dict[str, Any] = settings.STORAGES
    return str(storages["default"]["BACKEND"])


def _dump_database(into: Path) -> tuple[str, dict[str, str]]:
    connection = connections[DEFAULT_DB_ALIAS]
    if connection.vendor == "postgresql":
        tool = check_pg_tool("pg_dump")
        target = into / PG_MEMBER
        _run(
            [
                _pg_tool("pg_dump"),
                "--format=custom",
                "--no-owner",
                "--no-privileges",
                f"--file={target}",
            ],
            "pg_dump",
        )
        return PG_MEMBER, {"pg_dump": tool, "server": server_version()}
    if connection.vendor == "sqlite":
        target = into / SQLITE_MEMBER
        connection.ensure_connection()
        destination = sqlite3.connect(target)
        try:
            connection.connection.backup(destination)  # consistent while others write
        finally:
            destination.close()
        return SQLITE_MEMBER, {"sqlite": sqlite3.sqlite_version}
    raise BackupError(f"Backups support PostgreSQL and SQLite, not {connection.vendor}.")


@dataclass
class BackupResult:
    path: Path
    manifest: dict[str, Any]


def backup(output: Path, *, now: datetime) -> BackupResult:
    """Write one archive (database, media, manifest) to `output` (a file path)."""
    output.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="masthead-backup-") as tmp:
        folder = Path(tmp)
        member, db_versions = _dump_database(folder)
        checksums = {member: _sha256_file(folder / member)}
        media: list[str] = []
        partial = output.with_name(output.name + ".partial")
        with tarfile.open(partial, "w:gz") as archive:
            archive.add(folder / member, arcname=member)
            for name in media_names():
                with default_storage.open(name, "rb") as handle:
                    data = handle.read()
                info = tarfile.TarInfo(MEDIA_PREFIX + name)
                info.size = len(data)
                info.mtime = int(now.timestamp())
                archive.addfile(info, io.BytesIO(data))
                checksums[MEDIA_PREFIX + name] = hashlib.sha256(data).hexdigest()
                media.append(name)
            manifest = {
                "format": FORMAT,
                "created_at": now.astimezone(UTC).isoformat(),
                "site": settings.SITE_NAME,
                "versions": {
                    "masthead": _masthead_version(),
                    "django": django.get_version(),
                    "python": platform.python_version(),
                    **db_versions,
                },
                "database": {"vendor": connections[DEFAULT_DB_ALIAS].vendor, "member": member},
                "migrations": applied_migrations(),
                "counts": row_counts(),
                "content": fingerprint(),
                "media": {"storage": _storage_kind(), "files": len(media)},
                "checksums": checksums,
            }
            body = json.dumps(manifest, indent=2, sort_keys=True).encode()
            info = tarfile.TarInfo(MANIFEST)
            info.size = len(body)
            info.mtime = int(now.timestamp())
            archive.addfile(info, io.BytesIO(body))
        partial.replace(output)  # a crash mid-way never leaves a file that looks complete
    return BackupResult(output, manifest)


def _masthead_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("masthead")
    except PackageNotFoundError:
        return "unknown"


def default_name(now: datetime) -> str:
    return f"masthead-{now.astimezone(UTC):%Y%m%dT%H%M%SZ}.tar.gz"


def prune(folder: Path, keep: int) -> list[Path]:
    """Delete all but the newest `keep` archives in `folder`; returns the deleted."""
    archives = sorted(folder.glob("masthead-*.tar.gz"))
    doomed = archives[:-keep] if keep > 0 else []
    for path in doomed:
        path.unlink()
    return doomed


# ---- restore ------------------------------------------------------------------------------


@dataclass
class Verified:
    manifest: dict[str, Any]
    folder: Path
    media: list[str] = field(default_factory=list)


def read_manifest(archive_path: Path) -> dict[str, Any]:
    with tarfile.open(archive_path, "r:gz") as archive:
        member = archive.extractfile(MANIFEST)
        if member is None:
            raise BackupError(f"{archive_path} has no {MANIFEST}: not a Masthead backup.")
        return dict(json.loads(member.read()))


@contextlib.contextmanager
def unpacked(archive_path: Path) -> Iterator[Verified]:
    """The archive unpacked into a temporary folder, every member checked against the manifest."""
    try:
        manifest = read_manifest(archive_path)
    except (tarfile.TarError, KeyError, OSError, ValueError) as error:
        raise BackupError(f"{archive_path} is not a readable Masthead backup: {error}") from error
    if manifest.get("format") != FORMAT:
        raise BackupError(f"Backup format {manifest.get('format')!r} is not {FORMAT}.")
    checksums: dict[str, str] = manifest["checksums"]
    with tempfile.TemporaryDirectory(prefix="masthead-restore-") as tmp:
        folder = Path(tmp)
        with tarfile.open(archive_path, "r:gz") as archive:
            names = {m.name for m in archive.getmembers() if m.isfile()} - {MANIFEST}
            if names != set(checksums):
                raise BackupError(
                    "The archive's files do not match its manifest (missing: "
                    f"{sorted(set(checksums) - names)[:5]}, unexpected: "
                    f"{sorted(names - set(checksums))[:5]})."
                )
            archive.extractall(folder, filter="data")
        for name, expected in checksums.items():
            if _sha256_file(folder / name) != expected:
                raise BackupError(f"{name} in the archive is damaged (checksum mismatch).")
        media = sorted(
            n.removeprefix(MEDIA_PREFIX) for n in checksums if n.startswith(MEDIA_PREFIX)
        )
        yield Verified(manifest, folder, media)


def check_restorable(manifest: dict[str, Any], *, force: bool) -> None:
    vendor = connections[DEFAULT_DB_ALIAS].vendor
    if manifest["database"]["vendor"] != vendor:
        raise BackupError(
            f"The backup is of a {manifest['database']['vendor']} database; DATABASE_URL "
            f"points at {vendor}."
        )
    unknown = sorted(set(manifest["migrations"]) - known_migrations())
    if unknown:
        raise BackupError(
            f"The backup was made by newer code: {len(unknown)} of its migrations are unknown "
            f"here (the first is {unknown[0]}). Restore with the version that made it "
            f"({manifest['versions']['masthead']}), then upgrade."
        )
    if database_has_tables() and not force:
        raise BackupError(
            "The database is not empty. Restore into an empty database, or pass --force to "
            "replace what it holds (everything in it is lost)."
        )
    if vendor == "postgresql":
        check_pg_tool("pg_restore")


def _restore_database(verified: Verified, *, force: bool) -> None:
    connection = connections[DEFAULT_DB_ALIAS]
    member = verified.folder / verified.manifest["database"]["member"]
    if connection.vendor == "postgresql":
        connection.close()
        argv = [
            _pg_tool("pg_restore"),
            "--no-owner",
            "--no-privileges",
            "--exit-on-error",
            "--single-transaction",
            f"--dbname={_pg_env()['PGDATABASE']}",
        ]
        if force:
            argv += ["--clean", "--if-exists"]
        _run([*argv, str(member)], "pg_restore")
        return
    connection.ensure_connection()
    source = sqlite3.connect(member)
    try:
        source.backup(connection.connection)  # replaces every page of the target
    finally:
        source.close()
    connection.close()


def _restore_media(verified: Verified, *, force: bool) -> None:
    for name in verified.media:
        if default_storage.exists(name):
            if not force:
                raise BackupError(f"Media file {name} exists already; pass --force to replace.")
            default_storage.delete(name)
        data = (verified.folder / MEDIA_PREFIX / name).read_bytes()
        saved = default_storage.save(name, ContentFile(data))
        if saved != name:
            raise BackupError(f"Media file {name} was stored as {saved}.")


def _retire_caches() -> None:
    """Caches hold the state from before the restore: give the site a new generation and
    drop this site's Redis keys (prefix MASTHEAD_REDIS_PREFIX), meters included."""
    generation = apps.get_model("core", "SiteGeneration")
    # No row: the next read starts at a random value anyway.
    generation.objects.filter(pk=1).update(value=secrets.randbits(48) + 1)
    if settings.REDIS_URL:
        import redis

        client = redis.Redis.from_url(settings.REDIS_URL)
        for key in client.scan_iter(match=f"{settings.REDIS_KEY_PREFIX}*", count=500):
            client.delete(key)


def compare(manifest: dict[str, Any]) -> list[str]:
    """How the database differs from the manifest's counts and hashes; empty when it matches."""
    problems = []
    counts = row_counts()
    for label, expected in manifest["counts"].items():
        if counts.get(label, expected) != expected:
            problems.append(f"{label}: {counts.get(label)} rows, the backup had {expected}")
    for name, expected in fingerprint().items():
        if expected != manifest["content"].get(name, expected):
            problems.append(f"{name} ({expected['table']}) differs from the backup")
    return problems


def restore(archive_path: Path, *, force: bool = False, media: bool = True) -> dict[str, Any]:
    """Restore database and media from an archive made by `backup`; returns its manifest."""
    with unpacked(archive_path) as verified:
        check_restorable(verified.manifest, force=force)
        _restore_database(verified, force=force)
        if media:
            _restore_media(verified, force=force)
    problems = compare(verified.manifest)
    if problems:
        raise BackupError("The restored database does not match the backup: " + "; ".join(problems))
    _retire_caches()
    return verified.manifest
