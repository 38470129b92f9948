"""Per-client rate limits on search, API reads and token creation: exact threshold, window,
reset, per-client isolation, counters shared through the database (embedded default) or
Redis, client addresses believed only from trusted proxies."""

from __future__ import annotations

import uuid

import pytest
import redis
from django.conf import settings
from django.core.cache import cache

from masthead.core import outage, ratelimit, redis_clients
from masthead.core.models import RateCounter
from masthead.core.ratelimit import Limit, hit
from tests import factories
from tests.own_redis import own_redis  # noqa: F401

pytestmark = pytest.mark.django_db
T0 = 1_800_000_000.0  # a window boundary for a 60-second limit (divisible by 60)


@pytest.fixture(autouse=True)
def limits(settings, monkeypatch):
    cache.clear()
    outage.reset()
    settings.REDIS_URL = ""
    settings.RATE_LIMITS = {"search": "3/60", "api_read": "2/60", "api_token": "2/300"}
    clock = {"now": T0 + 10}
    monkeypatch.setattr(ratelimit.time, "time", lambda: clock["now"])
    return clock


def search(client, ip="203.0.113.5", **headers):
    return client.get("/search/?q=harbour", REMOTE_ADDR=ip, **headers)


def test_search_allows_exactly_the_limit_then_a_helpful_429_page(client):
    assert [search(client).status_code for _ in range(3)] == [200, 200, 200]
    refused = search(client)
    assert refused.status_code == 429
    assert refused["Retry-After"] == "50"  # the window started at T0 and lasts 60 s
    assert refused["Cache-Control"] == "no-store"
    html = refused.content.decode()
    assert "<h1>Please slow down a little</h1>" in html
    assert "You can try again in 50 seconds." in html
    assert 'class="site-header' in html  # in the site's design, with its header


def test_the_limit_resets_when_the_window_ends(client, limits):
    for _ in range(4):
        search(client)
    limits["now"] = T0 + 59.5
    assert search(client).status_code == 429
    assert search(client)["Retry-After"] == "1"
    limits["now"] = T0 + 60
    assert search(client).status_code == 200


def test_clients_are_counted_apart(client):
    for _ in range(3):
        search(client, ip="203.0.113.5")
    assert search(client, ip="203.0.113.5").status_code == 429
    assert search(client, ip="203.0.113.6").status_code == 200


def test_forwarded_for_is_believed_only_from_a_trusted_proxy(client, settings):
    # An untrusted client cannot dodge the limit by inventing X-Forwarded-For addresses.
    for n in range(3):
        search(client, ip="198.51.100.9", HTTP_X_FORWARDED_FOR=f"10.0.0.{n}")
    assert search(client, ip="198.51.100.9", HTTP_X_FORWARDED_FOR="10.0.0.9").status_code == 429
    # Behind our proxy, each forwarded client has its own count.
    settings.TRUSTED_PROXIES = ["192.0.2.0/24"]
    proxy = "192.0.2.10"
    for _ in range(3):
        search(client, ip=proxy, HTTP_X_FORWARDED_FOR="1.2.3.4, 192.0.2.11")
    assert search(client, ip=proxy, HTTP_X_FORWARDED_FOR="1.2.3.4").status_code == 429
    assert search(client, ip=proxy, HTTP_X_FORWARDED_FOR="5.6.7.8").status_code == 200


def test_api_reads_get_a_json_429_with_a_code_and_retry_after(client):
    assert [client.get("/api/v1/sections").status_code for _ in range(2)] == [200, 200]
    refused = client.get("/api/v1/articles")
    assert refused.status_code == 429
    assert refused["Content-Type"] == "application/json"
    assert refused["Retry-After"] == "50"
    assert refused.json() == {
        "error": {
            "code": "rate_limited",
            "message": "Too many requests: at most 2 every 60 seconds. Try again in 50 seconds.",
            "retry_after": 50,
        }
    }


def test_token_creation_is_limited_separately_from_reads(client):
    body = {"email": "nobody@example.com", "password": "wrong-password", "name": "Phone"}
    codes = [
        client.post("/api/v1/auth/token", body, content_type="application/json").status_code
        for _ in range(3)
    ]
    assert codes == [401, 401, 429]
    assert client.get("/api/v1/sections").status_code == 200  # reads have their own count


def test_health_metrics_pages_and_writes_are_never_limited(client, settings):
    settings.RATE_LIMITS = {"search": "1/60", "api_read": "1/60", "api_token": "1/60"}
    factories.home_page()  # the site's pages exist even after a transactional test's flush
    assert {client.get("/healthz").status_code for _ in range(5)} == {200}
    assert {client.get("/").status_code for _ in range(5)} == {200}


def test_a_limit_set_to_off_counts_nothing(client, settings):
    settings.RATE_LIMITS = {"search": "off", "api_read": "2/60", "api_token": "2/60"}
    assert {search(client).status_code for _ in range(6)} == {200}
    assert RateCounter.objects.count() == 0


def test_a_malformed_limit_is_refused_with_the_expected_form():
    with pytest.raises(ValueError, match=r"must look like 30/60"):
        ratelimit.parse("search", "thirty")


def test_on_the_embedded_default_counters_live_in_the_database_shared_by_processes():
    limit = Limit("search", 3, 60)
    assert [hit(limit, "c1", now=T0 + 1).count for _ in range(2)] == [1, 2]
    row = RateCounter.objects.get()
    assert row.key == f"{settings.REDIS_KEY_PREFIX}:rl:search:c1:{int(T0)}"
    assert row.count == 2
    # A fresh window prunes the ended one (another client's included).
    assert hit(limit, "c2", now=T0 + 125).allowed
    assert list(RateCounter.objects.values_list("key", flat=True)) == [
        f"{settings.REDIS_KEY_PREFIX}:rl:search:c2:{int(T0) + 120}"
    ]


def test_with_redis_counters_live_in_redis_and_expire_with_the_window(settings):
    settings.REDIS_URL = "redis://127.0.0.1:6379/6"
    settings.REDIS_KEY_PREFIX = f"rl-test-{uuid.uuid4().hex}"
    client = redis.Redis.from_url(settings.REDIS_URL)
    try:
        client.ping()
    except redis.RedisError:
        pytest.skip("no Redis on 127.0.0.1:6379")
    limit = Limit("api_read", 2, 60)
    verdicts = [hit(limit, "c1", now=T0 + 30) for _ in range(3)]
    assert [(v.allowed, v.count, v.retry_after) for v in verdicts] == [
        (True, 1, 30),
        (True, 2, 30),
        (False, 3, 30),
    ]
    key = f"{settings.REDIS_KEY_PREFIX}:rl:api_read:c1:{int(T0)}"
    assert int(client.get(key)) == 3
    assert 0 < client.ttl(key) <= 31
    assert RateCounter.objects.count() == 0
    client.delete(key)


def test_an_unreachable_redis_lets_requests_through_and_is_logged_once(
    settings,
    own_redis,  # noqa: F811
    caplog,
):
    settings.REDIS_URL = own_redis.url
    limit = Limit("search", 1, 60)
    assert hit(limit, "c1", now=T0).allowed
    assert not hit(limit, "c1", now=T0).allowed
    own_redis.stop()
    redis_clients.forget()
    assert [hit(limit, "c1", now=T0).allowed for _ in range(3)] == [True, True, True]
    down = [r for r in caplog.records if "rate limits store is down" in r.getMessage()]
    assert len(down) == 1
