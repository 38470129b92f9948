"""The README's screenshots (docs/*.png) from the demo, in Debian's Chromium.

    PYTHONPATH=src .venv/bin/python bench/readme_screenshots.py   # ~1 min

Starts the demo in a temporary folder (as bench/lighthouse.py does), then saves:
article-page.png (the analysis piece, 1280x900), paywall-375.png and paywall-1280.png (a
subscribers-only article, scrolled to the paywall), offers-page.png and checkout-page.png
(full pages at 1280, checkout signed in as a new reader). Every request stays on 127.0.0.1.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path
from urllib.parse import urlparse

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR))

from lighthouse import CHROMIUM, ROOT, demo_server  # noqa: E402

FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip
DOCS = ROOT / "docs"
ANALYSIS = "/world/northmark-overture-to-valdoria/"
GATED = "/technology/encrypted-messaging-rules/"


def only_local(route) -> None:  # type: ignore[no-untyped-def]
    host = urlparse(route.request.url).hostname or ""
    if host in {"127.0.0.1", "localhost"} or route.request.url.startswith("data:"):
        route.continue_()
    else:
        route.abort()


def shoot(base: str) -> list[Path]:
    from playwright.sync_api import sync_playwright

    saved = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)

        def new_page(width: int, height: int):  # type: ignore[no-untyped-def]
            context = browser.new_context(viewport={"width": width, "height": height})
            page = context.new_page()
            page.route("**/*", only_local)
            return page

        page = new_page(1280, 900)
        page.goto(base + ANALYSIS)
        saved.append(DOCS / "article-page.png")
        page.screenshot(path=str(saved[-1]))
        for width, height in ((375, 812), (1280, 900)):
            page = new_page(width, height)
            page.goto(base + GATED)
            page.locator("#paywall").scroll_into_view_if_needed()
            page.evaluate(
                "() => window.scrollTo(0, document.querySelector('#paywall')"
                ".getBoundingClientRect().top + window.scrollY - 170)"
            )
            saved.append(DOCS / f"paywall-{width}.png")
            page.screenshot(path=str(saved[-1]))
        page = new_page(1280, 900)
        page.goto(base + "/offers/")
        saved.append(DOCS / "offers-page.png")
        page.screenshot(path=str(saved[-1]), full_page=True)
        page.goto(base + "/accounts/signup/?next=/checkout/offer/one-month/")
        page.fill("input[name=email]", "screenshot-reader@example.com")
        page.fill("input[name=password1]", "a-long-passphrase-42")
        page.fill("input[name=password2]", "a-long-passphrase-42")
        page.get_by_role("button", name="Sign up").click()
        page.wait_for_url("**/checkout/offer/one-month/**")
        saved.append(DOCS / "checkout-page.png")
        page.screenshot(path=str(saved[-1]), full_page=True)
        browser.close()
    return saved


def main() -> int:
    with (
        tempfile.TemporaryDirectory(prefix="masthead-shots-") as folder,
        demo_server(Path(folder)) as base,
    ):
        for path in shoot(base):
            print(path.relative_to(ROOT))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
