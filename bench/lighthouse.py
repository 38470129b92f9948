"""Lighthouse (npm `lighthouse`, Debian's Chromium) on the demo: home, a metered article, a
paywalled article and the offers page, mobile and desktop. Prints the four category scores.

    npm ci                                   # installs lighthouse into node_modules/
    .venv/bin/python bench/lighthouse.py     # ~2 min on two cores
    .venv/bin/python bench/lighthouse.py --base-url http://127.0.0.1:8000   # a running demo

Without --base-url it sets up the demo in a temporary folder (SQLite, no Redis), serves it
with `masthead demo` on a free 127.0.0.1 port and stops it on exit. Chromium is launched with
the flags in STACK-NOTES and never leaves 127.0.0.1. Not a test: nothing is asserted; figures
below 100 are marked with "!".
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import subprocess
import sys
import tempfile
import urllib.request
from collections.abc import Iterator
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
sys.path.insert(0, str(BENCH_DIR))

from harness import BenchError, free_port, print_table, running  # noqa: E402

LIGHTHOUSE = ROOT / "node_modules" / ".bin" / "lighthouse"
CHROMIUM = "/usr/bin/chromium"
CHROME_FLAGS = (
    "--headless --no-sandbox --disable-gpu --disable-quic --no-first-run "
    "--disable-background-networking --disable-component-update --disable-sync"
)
CATEGORIES = ("performance", "accessibility", "best-practices", "seo")
METERED_ARTICLE = re.compile(r'href="(/[a-z-]+/[a-z0-9-]+/)"')


def masthead_command() -> Path:
    """The checkout's own venv, or (a worktree sharing one) the venv running this script."""
    own = ROOT / ".venv" / "bin" / "masthead"
    return own if own.exists() else Path(sys.executable).parent / "masthead"


@contextlib.contextmanager
def demo_server(work: Path) -> Iterator[str]:
    port = free_port()
    env = {
        **os.environ,
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "MASTHEAD_VAR_DIR": str(work / "var"),
        "DATABASE_URL": f"sqlite:///{work / 'lighthouse.sqlite3'}",
        "REDIS_URL": "",
    }
    masthead = str(masthead_command())
    with running(
        "masthead demo",
        [masthead, "demo"],
        port=port,
        env=env,
        cwd=ROOT,
        log_dir=work,
        timeout=600,
    ) as server:
        yield server.base_url


def get(url: str, cookie: str = "") -> tuple[str, str]:
    request = urllib.request.Request(url, headers={"Cookie": cookie} if cookie else {})
    with urllib.request.urlopen(request, timeout=20) as response:
        cookies = response.headers.get_all("Set-Cookie") or []
        return response.read().decode(), "; ".join(c.split(";")[0] for c in cookies)


def pages(base: str) -> list[tuple[str, str, str]]:
    """(name, URL, cookie): the paywalled article is read with a reader cookie whose meter is
    spent, so Lighthouse sees the paywall."""
    home, _ = get(base + "/")
    articles = list(dict.fromkeys(METERED_ARTICLE.findall(home)))
    metered = []
    for path in articles:
        html, _ = get(base + path)
        if 'class="meter' in html:
            metered.append(path)
    if len(metered) < 4:
        raise BenchError("the demo has fewer than four metered articles on its home page")
    cookie = ""
    for path in metered[:3]:
        _, set_cookie = get(base + path, cookie)
        cookie = set_cookie or cookie
    html, _ = get(base + metered[3], cookie)
    if 'id="paywall"' not in html:
        raise BenchError("the fourth metered article did not show the paywall")
    return [
        ("home", base + "/", ""),
        ("article", base + metered[0], ""),
        ("paywalled article", base + metered[3], cookie),
        ("offers", base + "/offers/", ""),
    ]


def lighthouse(url: str, cookie: str, *, desktop: bool, out: Path) -> dict[str, int]:
    argv = [
        str(LIGHTHOUSE),
        url,
        "--quiet",
        "--output=json",
        f"--output-path={out}",
        f"--chrome-flags={CHROME_FLAGS}",
        "--only-categories=" + ",".join(CATEGORIES),
    ]
    if desktop:
        argv.append("--preset=desktop")
    if cookie:
        argv.append("--extra-headers=" + json.dumps({"Cookie": cookie}))
    env = {**os.environ, "CHROME_PATH": CHROMIUM}
    subprocess.run(argv, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    report = json.loads(out.read_text())
    return {name: round(report["categories"][name]["score"] * 100) for name in CATEGORIES}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base-url", help="a running demo (default: start one)")
    args = parser.parse_args()
    if not LIGHTHOUSE.exists():
        print("lighthouse is not installed: run `npm ci` in the repository", file=sys.stderr)
        return 2
    if not os.path.exists(CHROMIUM):
        print(f"{CHROMIUM} is missing: apt-get install chromium", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="masthead-lighthouse-") as folder:
        work = Path(folder)
        with contextlib.ExitStack() as stack:
            base = args.base_url or stack.enter_context(demo_server(work))
            rows = []
            for name, url, cookie in pages(base.rstrip("/")):
                for form in ("mobile", "desktop"):
                    scores = lighthouse(
                        url, cookie, desktop=form == "desktop", out=work / "report.json"
                    )
                    rows.append(
                        [f"{name} ({form})"]
                        + [f"{scores[c]}{'' if scores[c] == 100 else ' !'}" for c in CATEGORIES]
                    )
            print_table(["page", *CATEGORIES], rows)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BenchError as exc:
        print(exc, file=sys.stderr)
        sys.exit(1)
