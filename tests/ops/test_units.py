"""The systemd units in deploy/systemd pass deploy/check-units, and the check catches faults."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHECK = ROOT / "deploy" / "check-units"
UNITS = ROOT / "deploy" / "systemd"
HAS_SYSTEMD_ANALYZE = shutil.which("systemd-analyze") is not None


def run_check(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(CHECK), *args], capture_output=True, text=True, check=False
    )


def test_a_unit_for_each_process_and_timer():
    names = {p.name for p in UNITS.iterdir()}
    assert {
        "masthead-serve.service",
        "masthead-worker.service",
        "masthead-backup.service",
        "masthead-backup.timer",
    } <= names
    serve = (UNITS / "masthead-serve.service").read_text()
    worker = (UNITS / "masthead-worker.service").read_text()
    assert "ExecStart=/srv/masthead/venv/bin/masthead serve" in serve
    assert "ExecStart=/srv/masthead/venv/bin/masthead worker" in worker
    assert "EnvironmentFile=/etc/masthead/masthead.env" in serve


@pytest.mark.parametrize(
    "mode", ["--parser-only", pytest.param("", id="systemd-analyze")], ids=["parser", "verify"]
)
def test_shipped_units_pass(mode):
    if mode == "" and not HAS_SYSTEMD_ANALYZE:
        pytest.fail("systemd-analyze is missing: apt-get install systemd")
    result = run_check(*([mode] if mode else []))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "6 units checked" in result.stdout
    assert ("systemd-analyze verify" if mode == "" else "(parser)") in result.stdout


def _broken_copy(tmp_path: Path, old: str, new: str) -> Path:
    text = (UNITS / "masthead-serve.service").read_text()
    assert old in text
    (tmp_path / "masthead-serve.service").write_text(text.replace(old, new))
    return tmp_path


def test_verify_catches_a_bad_value(tmp_path):
    if not HAS_SYSTEMD_ANALYZE:
        pytest.fail("systemd-analyze is missing: apt-get install systemd")
    result = run_check(str(_broken_copy(tmp_path, "Restart=on-failure", "Restart=sometimes")))
    assert result.returncode == 1
    assert "restart specifier" in result.stdout
    assert "FAIL" in result.stdout


def test_parser_catches_a_missing_execstart(tmp_path):
    directory = _broken_copy(tmp_path, "ExecStart=/srv/masthead/venv/bin/masthead serve", "#")
    result = run_check("--parser-only", str(directory))
    assert result.returncode == 1
    assert "[Service] has no ExecStart=" in result.stdout


def test_parser_catches_a_stray_line(tmp_path):
    directory = _broken_copy(tmp_path, "Restart=on-failure", "Restart on failure")
    result = run_check("--parser-only", str(directory))
    assert result.returncode == 1
    assert "not a section, comment or Key=Value: 'Restart on failure'" in result.stdout


def test_parser_catches_a_timer_naming_no_service(tmp_path):
    (tmp_path / "x.timer").write_text("[Unit]\nDescription=x\n[Timer]\nUnit=missing.service\n")
    result = run_check("--parser-only", str(tmp_path))
    assert result.returncode == 1
    assert "Unit=missing.service is not in" in result.stdout
