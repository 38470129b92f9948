"""The nginx caching front of docs/deploying.md ("A caching front (nginx)"), for real: the
documented block, with this test's ports and folders, in front of a live Masthead (pytest-django's
live server)."""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from bench.harness import free_port
from masthead.newsroom.models import AccessLevel
from tests import factories

DOC = Path(__file__).resolve().parents[2] / "docs" / "deploying.md"
SECTION = "## A caching front (nginx)"
NGINX = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/usr/bin")

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        NGINX is None, reason="nginx is not installed (apt-get install nginx-light)"
    ),
]


def documented_block() -> str:
    """The first ```nginx block of the deployment guide's caching-front section."""
    text = DOC.read_text()
    assert SECTION in text, f"docs/deploying.md has no section {SECTION!r}"
    found = re.search(r"```nginx\n(.*?)```", text[text.index(SECTION) :], re.S)
    assert found, "the caching-front section of docs/deploying.md has no nginx block"
    return found.group(1)


def config_for(prefix: Path, port: int, app: str) -> str:
    block = documented_block()
    for documented, ours in (
        ("/var/cache/nginx/masthead", str(prefix / "cache")),
        ("server 127.0.0.1:8000;", f"server {app};"),
        ("listen 80;", f"listen 127.0.0.1:{port};"),
    ):
        assert documented in block, documented
        block = block.replace(documented, ours)
    temp = "\n".join(
        f"{kind}_temp_path {prefix}/tmp/{kind};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    head = f"worker_processes 1; daemon off; pid {prefix}/nginx.pid; error_log stderr warn;"
    events = "events { worker_connections 64; }"
    return f"{head}\n{events}\nhttp {{\naccess_log off;\n{temp}\n{block}\n}}\n"


@pytest.fixture
def front(live_server):
    """nginx with the documented configuration in front of the live server; yields its URL."""
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="masthead-nginx-") as name:
        prefix = Path(name)
        for folder in ("cache", "tmp"):
            (prefix / folder).mkdir()
        prefix.chmod(0o777)
        for folder in ("cache", "tmp"):
            (prefix / folder).chmod(0o777)  # workers may run as nobody when started as root
        app = live_server.url.removeprefix("http://")
        (prefix / "nginx.conf").write_text(config_for(prefix, port, app))
        argv = [NGINX, "-p", str(prefix), "-e", "stderr", "-c", str(prefix / "nginx.conf")]
        checked = subprocess.run([*argv, "-t"], capture_output=True, text=True, check=False)
        assert checked.returncode == 0, checked.stderr
        process = subprocess.Popen(argv, stderr=subprocess.PIPE)
        try:
            deadline = time.monotonic() + 10
            while True:
                try:
                    urllib.request.urlopen(f"http://127.0.0.1:{port}/robots.txt", timeout=5)
                    break
                except (urllib.error.URLError, ConnectionError):
                    assert process.poll() is None, process.stderr.read().decode()
                    assert time.monotonic() < deadline, "nginx did not start"
                    time.sleep(0.1)
            yield f"http://127.0.0.1:{port}"
        finally:
            process.terminate()
            process.wait(timeout=10)


BROWSER = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0"


def fetch(url: str, cookie: str = "") -> tuple[str, str, str]:
    """(X-Cache-Status, Cache-Control, body) of a GET with the given Cookie header."""
    # A browser's User-Agent: urllib's is a machine's (docs/machines.md).
    request = urllib.request.Request(url, headers={"Host": "localhost", "User-Agent": BROWSER})
    if cookie:
        request.add_header("Cookie", cookie)
    with urllib.request.urlopen(request, timeout=20) as response:
        return (
            response.headers.get("X-Cache-Status", ""),
            response.headers.get("Cache-Control", ""),
            response.read().decode(),
        )


def test_a_free_article_is_served_from_the_cache_the_second_time(front):
    page = factories.article("Harbour reopens", access_level=AccessLevel.FREE)
    first = fetch(front + page.url)
    second = fetch(front + page.url)
    assert first[0] == "MISS"
    assert first[1].startswith("public, ")
    assert second[0] == "HIT"
    assert second[2] == first[2]
    assert "Harbour reopens" in second[2]


def test_a_request_with_a_session_cookie_is_never_served_from_the_cache(front):
    page = factories.article("Harbour reopens", access_level=AccessLevel.FREE)
    fetch(front + page.url)
    assert fetch(front + page.url)[0] == "HIT"
    for _ in range(2):
        status, _, _ = fetch(front + page.url, cookie="sessionid=someones-session")
        assert status == "BYPASS"
    # The meter's cookie alone is a signed-out reader: the shared copy is theirs too.
    assert fetch(front + page.url, cookie="mh_reader=abc")[0] == "HIT"


def test_a_metered_page_is_never_cached(front):
    page = factories.article("Members' briefing", access_level=AccessLevel.METERED)
    seen = [fetch(front + page.url) for _ in range(3)]
    assert [status for status, _, _ in seen] == ["MISS", "MISS", "MISS"]
    assert all(cache_control == "private, no-store" for _, cache_control, _ in seen)


def test_a_stale_page_is_served_while_it_is_refreshed(front, settings):
    """s-maxage (not the browser's max-age of 60 s) is the shared copy's lifetime; then
    stale-while-revalidate lets nginx answer with the stale copy and refresh it behind."""
    settings.CACHE_S_MAXAGE, settings.CACHE_STALE_WHILE_REVALIDATE = 1, 30
    page = factories.article("Harbour reopens", access_level=AccessLevel.FREE)
    assert fetch(front + page.url)[0] == "MISS"
    assert fetch(front + page.url)[0] == "HIT"
    time.sleep(2.5)  # nginx counts lifetimes in whole seconds
    assert fetch(front + page.url)[0] == "STALE"  # answered at once, refreshed behind
    deadline = time.monotonic() + 5
    while (status := fetch(front + page.url)[0]) != "HIT" and time.monotonic() < deadline:
        time.sleep(0.1)
    assert status == "HIT"
