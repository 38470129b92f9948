"""Redis stops under load and comes back empty: nobody gets a 5xx, the meter's fail mode is
honoured (open, then closed), signed-in readers stay signed in, the outage is logged once,
and after the restart no exhausted reader gets a fresh meter and nobody is signed out.

The test starts its own redis-server (tests/own_redis.py) and points the cache, the session
cache and the meter at it; the site is the live server in this process, so the log is this
process's. Requests come from several threads at once.
"""

from __future__ import annotations

import logging
import threading
import time
import urllib.error
import urllib.request
from collections import Counter

import pytest
from django.conf import settings
from django.core import signing

from masthead.access import campaigns
from masthead.core import generation, outage
from masthead.metering import policy as policy_module
from masthead.metering import stores
from masthead.metering.identity import COOKIE_SALT
from tests import factories
from tests.concurrency import waiting_out_sqlite_locks
from tests.metering.support import save_policy
from tests.own_redis import own_redis, redis_settings  # noqa: F401  (fixture)

pytestmark = [pytest.mark.redis, pytest.mark.django_db(transaction=True)]

# Each phase lasts until every kind of reader finished this many requests inside it (a fresh
# render while Redis is down takes far longer than a cached page on a busy machine).
PER_PHASE = 3
PHASE_LIMIT_SECONDS = 120.0
SPENT = "You have read all 3 free articles"
KINDS = ("fresh", "spent", "member")
COULD_NOT_CHECK = "We could not check your free articles just now"


def reader_cookie(anonymous_id: str) -> str:
    signer = signing.get_cookie_signer(salt=settings.READER_COOKIE_NAME + COOKIE_SALT)
    return f"{settings.READER_COOKIE_NAME}={signer.sign(anonymous_id)}"


BROWSER = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0"


def fetch(url: str, cookie: str = "") -> tuple[int, str]:
    # A browser's User-Agent: urllib's is a machine's (docs/machines.md).
    headers = {"User-Agent": BROWSER, **({"Cookie": cookie} if cookie else {})}
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


class Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def settle(seen: list, lock: threading.Lock, phase_name: str) -> None:
    """Wait until each kind of reader completed PER_PHASE requests within `phase_name`."""
    deadline = time.monotonic() + PHASE_LIMIT_SECONDS
    while time.monotonic() < deadline:
        with lock:
            done = Counter(kind for p, kind, _, _ in seen if p == phase_name)
        if all(done[kind] >= PER_PHASE for kind in ("fresh", "spent", "member")):
            return
        time.sleep(0.1)


def forget_process_state() -> None:
    stores._redis_store.cache_clear()
    generation.forget()
    policy_module.forget_policy()
    campaigns.forget_campaigns()
    outage.reset()


def save_policy_while_serving(**fields: object) -> None:
    """Saved as staff would, while the live server's threads read the policy's table: on
    SQLite they share this test's in-memory database, which refuses the save at once while a
    read is open; a database file would wait (tests/concurrency.py)."""
    waiting_out_sqlite_locks(lambda: save_policy(**fields), seconds=10)


@pytest.fixture
def site(own_redis, settings, live_server):  # noqa: F811
    redis_settings(settings, own_redis.url)
    forget_process_state()
    yield live_server
    forget_process_state()


def test_redis_stopping_and_coming_back_empty(site, own_redis, client):  # noqa: F811
    save_policy(fail_mode="open")
    articles = [
        factories.article(f"Metered {n}", body=factories.paragraphs(5, prefix=f"Art{n}"))
        for n in range(5)
    ]
    urls = [site.url + article.url for article in articles]
    member = factories.user("member@example.com")
    client.force_login(member)
    member_cookie = (
        f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"
    )
    spent_cookie = reader_cookie("e" * 32)
    for url in urls[:3]:
        assert "of the body" in fetch(url, spent_cookie)[1]
    status, html = fetch(urls[3], spent_cookie)
    assert status == 200 and SPENT in html and "Art3 5 of the body" not in html
    status, html = fetch(urls[4], member_cookie)
    assert "Sign out" in html and "Art4 5 of the body" in html

    log = Lines()
    logging.getLogger("masthead").addHandler(log)
    phase = {"name": "up"}
    seen: list[tuple[str, str, int, str]] = []
    lock = threading.Lock()
    stop = threading.Event()

    def load(kind: str, cookie: str, url: str) -> None:
        while not stop.is_set():
            began = phase["name"]
            status, html = fetch(url, cookie)
            # A request that straddles a change of phase counts for neither's checks.
            during = began if began == phase["name"] else "between"
            with lock:
                seen.append((during, kind, status, html))

    readers = [
        ("fresh", "", urls[0]),
        ("fresh", "", urls[1]),
        ("spent", spent_cookie, urls[3]),
        ("spent", spent_cookie, urls[4]),
        ("member", member_cookie, urls[2]),
        ("member", member_cookie, urls[4]),
    ]
    threads = [threading.Thread(target=load, args=reader) for reader in readers]
    try:
        for thread in threads:
            thread.start()
        settle(seen, lock, "up")
        own_redis.stop()  # under load
        phase["name"] = "down-open"
        settle(seen, lock, "down-open")
        phase["name"] = "switching"
        save_policy_while_serving(fail_mode="closed")  # Redis is down: read from the database
        time.sleep(0.5)
        phase["name"] = "down-closed"
        settle(seen, lock, "down-closed")
        phase["name"] = "restarting"
        own_redis.start()  # empty: nothing was kept on disk
        time.sleep(0.5)
        phase["name"] = "restarted"
        settle(seen, lock, "restarted")
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=30)
        logging.getLogger("masthead").removeHandler(log)

    by_phase = Counter((phase_name, kind) for phase_name, kind, _, _ in seen)
    assert all(
        by_phase[(p, k)] > 0
        for p in ("down-open", "down-closed", "restarted")
        for k in ("fresh", "spent", "member")
    ), by_phase
    assert [s for s in seen if s[2] >= 500] == []
    assert {s[2] for s in seen} == {200}

    def bodies(phase_name: str, kind: str) -> list[str]:
        return [html for p, k, _, html in seen if p == phase_name and k == kind]

    # Fail open: the spent reader reads in full, uncounted; fail closed: the preview and why.
    assert all(
        "5 of the body" in html and SPENT not in html for html in bodies("down-open", "spent")
    )
    assert all(
        COULD_NOT_CHECK in html and "5 of the body" not in html
        for html in bodies("down-closed", "spent")
    )
    # A fresh reader has read nothing: no store is needed to let them read the first article.
    assert all(
        "5 of the body" in html for p in ("down-open", "down-closed") for html in bodies(p, "fresh")
    )
    # Signed in throughout, and after the restart.
    for p in ("down-open", "down-closed", "restarted"):
        assert all("Sign out" in html for html in bodies(p, "member")), p
    # After the restart the spent reader is still spent (rebuilt from the database).
    assert all(
        SPENT in html and "5 of the body" not in html for html in bodies("restarted", "spent")
    )
    # Said once per outage, not per request (hundreds of requests met it), and each outage
    # said to be over. A Redis that is shutting down may flap for a moment (one connection
    # closed by the server, the next one still answered): two short outages, each said once.
    downs = sum("cache store is down" in m for m in log.messages)
    backs = sum("cache store is back" in m for m in log.messages)
    assert 1 <= downs <= 3 and backs == downs, log.messages
    assert 1 <= sum("meter store is down" in m for m in log.messages) <= 3, log.messages
    served = sum(by_phase[(p, k)] for p in ("down-open", "down-closed") for k in KINDS)
    assert served >= 3 * PER_PHASE * 2, by_phase  # many requests, few lines


LOAD_SECONDS = 10.0


def test_cookie_less_load_keeps_redis_keys_and_memory_flat(own_redis, settings, client):  # noqa: F811
    """Issue 7 saw 245 keys become 122,913 in a minute of cookie-less reads. Now the first
    read of a reader without a cookie rides in the cookie: Redis holds only the pages."""
    redis_settings(settings, own_redis.url)
    forget_process_state()
    try:
        articles = [
            factories.article(f"Loaded {n}", body=factories.paragraphs(4, prefix=f"Load{n}"))
            for n in range(3)
        ]
        for article in articles * 3:  # routes, fragments and the generation are cached
            client.get(article.url)
        redis = own_redis.client()
        keys_before, memory_before = redis.dbsize(), redis.info("memory")["used_memory"]
        served = 0
        deadline = time.monotonic() + LOAD_SECONDS
        while time.monotonic() < deadline:
            client.cookies.clear()
            response = client.get(articles[served % 3].url)
            assert response.status_code == 200
            assert f"Load{served % 3} 4 of the body" in response.content.decode()
            served += 1
        keys_after, memory_after = redis.dbsize(), redis.info("memory")["used_memory"]
        print(
            f"\ncookie-less load: {served} reads in {LOAD_SECONDS:.0f} s; Redis keys "
            f"{keys_before} -> {keys_after}, used memory {memory_before:,} -> {memory_after:,} B"
        )
        assert served > 10
        assert keys_after == keys_before
        assert memory_after - memory_before < 256 * 1024
    finally:
        forget_process_state()
