"""/metrics: protected from the public; request latency by route, meter decisions by reason,
queue depth, webhook failures; counters summed over several processes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from prometheus_client import REGISTRY

from masthead.newsroom.models import AccessLevel
from tests import factories

pytestmark = pytest.mark.django_db
TOKEN = "s3cret-scrape-token"
ROOT = Path(__file__).resolve().parents[2]


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


@pytest.fixture(autouse=True)
def protected(settings):
    settings.METRICS_TOKEN = TOKEN
    settings.METRICS_ALLOWED_IPS = ["192.0.2.50"]
    settings.RATE_LIMITS = {"search": "off", "api_read": "off", "api_token": "off"}


def scrape(client) -> str:
    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=")
    assert "no-store" in response["Cache-Control"]
    return response.content.decode()


@pytest.mark.parametrize(
    ("remote", "authorization", "status"),
    [
        ("203.0.113.9", "", 404),
        ("203.0.113.9", "Bearer wrong", 404),
        ("203.0.113.9", f"Basic {TOKEN}", 404),
        ("203.0.113.9", f"Bearer {TOKEN}", 200),
        ("192.0.2.50", "", 200),
    ],
)
def test_metrics_answer_only_the_token_or_an_allowed_address(client, remote, authorization, status):
    headers = {"HTTP_AUTHORIZATION": authorization} if authorization else {}
    assert client.get("/metrics", REMOTE_ADDR=remote, **headers).status_code == status


def test_metrics_are_hidden_from_everyone_when_nothing_is_configured(client, settings):
    settings.METRICS_TOKEN = ""
    settings.METRICS_ALLOWED_IPS = []
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer ").status_code == 404


def test_request_latency_is_recorded_by_route(client):
    labels = {"route": "healthz", "method": "GET", "status": "2xx"}
    before = sample("masthead_request_duration_seconds_count", **labels)
    client.get("/healthz")
    client.get("/healthz")
    assert sample("masthead_request_duration_seconds_count", **labels) == before + 2
    text = scrape(client)
    assert (
        'masthead_request_duration_seconds_bucket{le="0.005",method="GET",route="healthz"' in text
    )


def test_meter_decisions_are_counted_by_reason(client):
    free = factories.article("Open", access_level=AccessLevel.FREE)
    paid = factories.article("Closed", access_level=AccessLevel.SUBSCRIBERS)
    free_before = sample("masthead_meter_decisions_total", reason="free_article")
    paid_before = sample("masthead_meter_decisions_total", reason="subscribers_only")
    client.get(free.url)
    client.get(paid.url)
    client.get(paid.url)
    assert sample("masthead_meter_decisions_total", reason="free_article") == free_before + 1
    assert sample("masthead_meter_decisions_total", reason="subscribers_only") == paid_before + 2
    assert 'masthead_meter_decisions_total{reason="subscribers_only"}' in scrape(client)


def test_queue_depth_is_read_from_the_queue_at_scrape_time(client, settings):
    from tests.core import support_tasks

    settings.TASKS = {
        "default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}
    }
    assert "masthead_queue_depth 0.0" in scrape(client)
    support_tasks.steady.enqueue("one")
    support_tasks.steady.enqueue("two")
    assert "masthead_queue_depth 2.0" in scrape(client)


def test_webhook_refusals_are_counted(client, settings):
    settings.STRIPE_WEBHOOK_SECRET = "whsec_test"
    before = sample("masthead_webhook_failures_total", provider="stripe", kind="invalid_signature")
    response = client.post(
        "/webhooks/stripe/",
        b'{"id": "evt_1"}',
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE="t=1,v1=forged",
    )
    assert response.status_code == 400
    after = sample("masthead_webhook_failures_total", provider="stripe", kind="invalid_signature")
    assert after == before + 1


COUNT_IN_A_CHILD = """
import sys
from masthead.core import metrics
for _ in range(int(sys.argv[1])):
    metrics.count_decision("metered")
metrics.count_webhook_failure("stripe", "apply_failed")
"""


def test_counters_from_several_processes_are_summed(client, tmp_path, monkeypatch):
    """prometheus_client's multiprocess mode: two worker processes, one scrape, their sum."""
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path), "PYTHONPATH": str(ROOT / "src")}
    for count in ("2", "3"):
        subprocess.run(
            [sys.executable, "-c", COUNT_IN_A_CHILD, count], env=env, check=True, timeout=60
        )
    assert len(list(tmp_path.glob("counter_*.db"))) == 2  # one file per process
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    text = scrape(client)
    assert 'masthead_meter_decisions_total{reason="metered"} 5.0' in text
    assert 'masthead_webhook_failures_total{kind="apply_failed",provider="stripe"} 2.0' in text


def test_serve_gives_every_worker_one_metrics_directory_emptied_at_start(settings, tmp_path):
    from masthead.core.management.commands import serve

    settings.METRICS_DIR = ""
    settings.VAR_DIR = tmp_path
    assert serve.server_environment()["PROMETHEUS_MULTIPROC_DIR"] == str(tmp_path / "metrics")
    settings.METRICS_DIR = str(tmp_path / "chosen")
    assert serve.server_environment()["PROMETHEUS_MULTIPROC_DIR"] == str(tmp_path / "chosen")
    (tmp_path / "chosen").mkdir()
    (tmp_path / "chosen" / "counter_123.db").write_bytes(b"old")
    (tmp_path / "chosen" / "keep.txt").write_text("not ours")
    serve.empty_metrics_dir(str(tmp_path / "chosen"))
    assert sorted(p.name for p in (tmp_path / "chosen").iterdir()) == ["keep.txt"]
