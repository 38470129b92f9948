"""Browser tests: Debian's Chromium through Playwright, kept on 127.0.0.1.

Skipped, with the reason, when /usr/bin/chromium is missing. Screenshots go to test-artifacts/.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlparse

import pytest

# Policy, campaign and offer lists are kept per process (the live server shares it): no
# browser test may see another's campaign day or policy.
from tests.metering.support import fresh_caches  # noqa: F401

CHROMIUM = "/usr/bin/chromium"
ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    # Headless Chromium says "HeadlessChrome", which the machine policy reads as automation
    # (docs/machines.md): the journeys are a reader's browser.
    "--user-agent=Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36",
]


def pytest_collection_modifyitems(config, items):
    if os.path.exists(CHROMIUM):
        return
    skip = pytest.mark.skip(reason=f"{CHROMIUM} is not installed (apt-get install chromium)")
    for item in items:
        if "browser" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_FLAGS}


@pytest.fixture
def page(page):
    """Every request that leaves 127.0.0.1/localhost is aborted."""

    def only_local(route):
        host = urlparse(route.request.url).hostname or ""
        if host in {"127.0.0.1", "localhost"} or route.request.url.startswith(("data:", "blob:")):
            return route.continue_()
        return route.abort()

    page.route("**/*", only_local)
    return page


def inject_axe(page) -> None:
    """axe-core into the page through the DevTools protocol, as a test tool: the site's
    Content-Security-Policy (no inline scripts) rightly refuses a <script> tag holding it."""
    page.evaluate(AXE.read_text() + "\n;true")


@pytest.fixture
def axe():
    """`axe(page)` returns the list of axe-core violations on the page."""
    if not AXE.exists():
        pytest.skip("axe-core is not installed (npm install axe-core)")

    def run(page) -> list[dict]:
        inject_axe(page)
        result = page.evaluate("async () => await axe.run(document)")
        return result["violations"]

    return run


@pytest.fixture
def screenshot():
    """`screenshot(page, name)` saves a full-page PNG under test-artifacts/."""
    ARTIFACTS.mkdir(exist_ok=True)

    def take(page, name: str) -> Path:
        path = ARTIFACTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


class Accessibility:
    """Collects axe-core violations page by page; `verdict()` asserts none, or, with axe-core
    missing, skips with the reason after every functional assertion of the test has run."""

    def __init__(self) -> None:
        self.found: dict[str, list[str]] = {}

    @property
    def available(self) -> bool:
        return AXE.exists()

    def check(self, page, name: str) -> None:
        if not self.available:
            return
        inject_axe(page)
        violations = page.evaluate("async () => await axe.run(document)")["violations"]
        self.found[name] = [f"{v['id']}: {v['help']}" for v in violations]

    def verdict(self) -> None:
        if not self.available:
            pytest.skip(
                "axe-core is not installed (npm ci): functional checks passed, "
                "accessibility not checked"
            )
        assert {name: found for name, found in self.found.items() if found} == {}


@pytest.fixture
def accessibility() -> Accessibility:
    return Accessibility()
