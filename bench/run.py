"""The benchmark of every page, in one run: `make bench` (or `.venv/bin/python bench/run.py`).

    .venv/bin/python bench/run.py                    # 15 s at 32 connections per target
    .venv/bin/python bench/run.py --quick            # 2 s per target: a smoke check
    .venv/bin/python bench/run.py --pages home,metered --reuse-database

In one run: a fresh PostgreSQL database and Redis db with the demo newsroom, production
settings (DEBUG off, hashed static files collected into var/bench/static), `masthead serve`,
then for each page (home, a section, a free article, a metered article for a fresh reader, a
subscriber's article, the RSS feed) the SQL queries and cache round trips one request costs
(in-process, warm cache, same settings) and wrk's req/s, p50 and p99; then the Python floor
(bench/floor_app.py) and nginx serving a saved copy of the metered article. It prints one
markdown table and writes var/bench/pages.md, pages.json and pages.png. Every request stays on
127.0.0.1; every process started here is stopped on exit, error, Ctrl-C or SIGTERM. Not a
test: nothing is asserted on time.
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR))

from harness import (  # noqa: E402  (bench/ is not a package)
    REPO,
    VAR_BENCH,
    BenchError,
    LoadResult,
    Response,
    Work,
    bench_main,
    checked_arguments,
    count_work,
    cpu_cores,
    fetch,
    floor_server,
    free_port,
    last_words,
    load_arguments,
    masthead_environment,
    nginx_serving,
    prepare_site,
    raw_size,
    require_tool,
    running,
    same_size,
    serve_argv,
    setup_django,
    step,
    visible_text,
    warm_and_load,
)
from report import FLOOR, NGINX, Figures, RunInfo, markdown_table, write_all  # noqa: E402

PAGES = {
    "home": "home page",
    "section": "section page",
    "free": "free article",
    "metered": "metered article, fresh reader",
    "subscriber": "subscriber's article",
    "feed": "RSS feed",
}
SUBSCRIBER_EMAIL = "subscriber@example.com"  # made by `masthead demo` (subscriptions/demo.py)
FEED_PATH = "/feeds/rss/"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    load_arguments(
        parser, duration=15, warmup=3, workers=cpu_cores(), database="mh_bench", redis_db=4
    )
    parser.add_argument(
        "--pages",
        default=",".join(PAGES),
        help=f"comma-separated subset of {','.join(PAGES)} (the floor and nginx always run)",
    )
    parser.add_argument("--out", type=Path, default=VAR_BENCH, help="where pages.* are written")
    parser.add_argument("--note", default="", help="printed with the date, e.g. 'quiet machine'")
    args = checked_arguments(parser, argv)
    if args.quick:
        args.note = args.note or "smoke, --quick"
    pages = [name.strip() for name in args.pages.split(",") if name.strip()]
    unknown = sorted(set(pages) - PAGES.keys())
    if unknown or not pages:
        parser.error(
            f"--pages: unknown {', '.join(unknown) or '(none given)'}; pick from {', '.join(PAGES)}"
        )
    args.pages = [name for name in PAGES if name in pages]
    return args


# -- what to load ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    key: str
    path: str
    headers: dict[str, str] = field(default_factory=dict)
    cookies: dict[str, str] = field(default_factory=dict)
    last_words: str = ""  # present only when the article's full text is shown
    title: str = ""
    signed_in_mark: str = ""  # present only when the page was rendered for a signed-in reader


def article_weight(article: object) -> tuple[int, int]:
    """The analysis piece first (dateline, hero image, three subheadings), then the longest."""
    body = article.body  # type: ignore[attr-defined]
    kinds = [block.block_type for block in body]
    shaped = bool(article.dateline and article.hero_image_id) and kinds.count("subheading") >= 3  # type: ignore[attr-defined]
    words = sum(
        len(visible_text(str(b.value.source)).split()) for b in body if b.block_type == "paragraph"
    )
    return (int(shaped), words)


def signed_in_session(email: str) -> str:
    """A real session for the demo account (Django's own login(), as the paywall audit does)."""
    from importlib import import_module

    from django.conf import settings
    from django.contrib.auth import get_user_model, login
    from django.http import HttpRequest

    user = get_user_model().objects.filter(email=email).first()
    if user is None:
        raise BenchError(f"The demo has no {email}; run without --reuse-database.")
    engine = import_module(settings.SESSION_ENGINE)
    request = HttpRequest()
    request.session = engine.SessionStore()
    request.COOKIES = {}
    request.META = {"REMOTE_ADDR": "127.0.0.1", "HTTP_USER_AGENT": "masthead-bench"}
    login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    request.session.save()
    return str(request.session.session_key)


def choose_targets() -> dict[str, Target]:
    """Every page's path, read through Django in this process (after setup_django)."""
    from django.conf import settings
    from django.db import DatabaseError, connections
    from django.urls import reverse

    from masthead.newsroom.models import AccessLevel, ArticlePage, SectionPage

    def url(page: object) -> str:
        parts = page.get_url_parts()  # type: ignore[attr-defined]
        if parts is None:
            raise BenchError(f"{page} has no URL (no site?).")
        return str(parts[2])

    try:
        articles = list(ArticlePage.objects.live().public().filter(sponsored=False).specific())
        sections = list(SectionPage.objects.live().public().order_by("path"))
        session = signed_in_session(SUBSCRIBER_EMAIL)
    except DatabaseError as error:
        raise BenchError(f"Cannot read the demo ({error}); run without --reuse-database.") from None
    finally:
        connections.close_all()
    free = [a for a in articles if a.access_level == AccessLevel.FREE]
    metered = [a for a in articles if a.access_level == AccessLevel.METERED]
    if not (free and metered and sections):
        raise BenchError("The demo needs a section, a free and a metered article.")
    section = next((s for s in sections if s.slug == "world"), sections[0])
    free_article = max(free, key=article_weight)
    metered_article = max(metered, key=article_weight)
    cookie = f"{settings.SESSION_COOKIE_NAME}={session}"
    return {
        "home": Target("home", "/"),
        "section": Target("section", url(section)),
        "free": Target(
            "free", url(free_article), last_words=last_words(free_article), title=free_article.title
        ),
        "metered": Target(
            "metered",
            url(metered_article),
            last_words=last_words(metered_article),
            title=metered_article.title,
        ),
        "subscriber": Target(
            "subscriber",
            url(metered_article),
            headers={"Cookie": cookie},
            cookies={settings.SESSION_COOKIE_NAME: session},
            last_words=last_words(metered_article),
            title=metered_article.title,
            signed_in_mark=f'action="{reverse("account_logout")}"',  # accounts/nav.html
        ),
        "feed": Target("feed", FEED_PATH),
    }


# -- measuring -----------------------------------------------------------------------------------

_CSRF = re.compile(rb'(name="csrfmiddlewaretoken" value=")[^"]*(")')


def comparable(body: bytes) -> bytes:
    """The page without what differs on every request by design (a masked CSRF token)."""
    return _CSRF.sub(rb"\1\2", body)


def probe(port: int, target: Target) -> Response:
    response = fetch(port, target.path, headers=target.headers)
    if response.status != 200:
        raise BenchError(
            f"{target.path} ({target.key}) answered {response.status}, not 200: "
            f"{response.body[:300]!r}"
        )
    if target.last_words and target.last_words not in visible_text(
        response.body.decode(errors="replace")
    ):
        raise BenchError(
            f"{target.path} ({target.key}) did not show the article's full text; the benchmark "
            "measures a reader who reads it in full."
        )
    if target.signed_in_mark and target.signed_in_mark.encode() not in response.body:
        raise BenchError(
            f"{target.path} ({target.key}) was not rendered for the signed-in subscriber: "
            "the session cookie was not honoured."
        )
    return response


def figures(
    key: str,
    name: str,
    path: str,
    result: LoadResult,
    load_average: float,
    *,
    work: Work | None,
    unchanged: bool,
) -> Figures:
    step(f"{name}: {result.requests_per_second:,.0f} requests/s, p99 {result.p99_ms:.1f} ms")
    return Figures(
        key=key,
        name=name,
        path=path,
        requests_per_second=result.requests_per_second,
        p50_ms=result.p50_ms,
        p99_ms=result.p99_ms,
        sql_queries=None if work is None else work.sql_queries,
        cache_round_trips=None if work is None else work.cache_round_trips,
        requests=result.requests,
        non_2xx=result.error_statuses + sum(result.socket_errors.values()),
        bytes_unchanged=unchanged,
        load_average=load_average,
    )


def measure_pages(
    args: argparse.Namespace,
    env: dict[str, str],
    site_port: int,
    targets: dict[str, Target],
    work: Path,
) -> tuple[list[Figures], bytes, str, dict[str, Work]]:
    """Each page through `masthead serve`: (figures, the metered article's bytes and type,
    the costs counted in-process)."""
    costs: dict[str, Work] = {}
    for key in args.pages:
        target = targets[key]
        costs[key] = count_work(target.path, cookies=target.cookies)
        cost = costs[key]
        step(
            f"{PAGES[key]} {target.path}: {cost.sql_queries} SQL, {cost.cache_round_trips} "
            f"cache round trips ({', '.join(cost.commands) or 'no Redis'}), status {cost.status}"
        )
    rows = []
    step(f"starting masthead serve ({args.workers} workers) on port {site_port}")
    with running(
        "masthead serve",
        serve_argv(site_port, args.workers),
        port=site_port,
        env=env,
        log_dir=work,
        timeout=180,
    ) as site:
        metered = probe(site_port, targets["metered"])
        for key in args.pages:
            target = targets[key]
            before = probe(site_port, target)
            result, load_average = warm_and_load(
                site.base_url + target.path, args, work, target.headers
            )
            after = fetch(site_port, target.path, headers=target.headers, timeout=60)
            unchanged = same_size(result, raw_size(before)) and comparable(
                after.body
            ) == comparable(before.body)
            rows.append(
                figures(
                    key,
                    PAGES[key],
                    target.path,
                    result,
                    load_average,
                    work=costs[key],
                    unchanged=unchanged,
                )
            )
    content_type = metered.header("Content-Type") or "text/html; charset=utf-8"
    return rows, metered.body, content_type, costs


def measure_references(
    args: argparse.Namespace,
    env: dict[str, str],
    page: bytes,
    content_type: str,
    path: str,
    work: Path,
) -> list[Figures]:
    """The Python floor and nginx, each serving the saved copy of the metered article."""
    rows = []
    with floor_server(
        page, content_type, workers=args.workers, log_dir=work, redis_url=env["REDIS_URL"]
    ) as floor:
        rows.append(
            measure_copy(
                "python floor (Django view, 1 Redis GET)",
                FLOOR,
                floor.port,
                path,
                page,
                args,
                work,
                (0, 1),
            )
        )
    with nginx_serving(
        page, content_type=content_type, workers=args.workers, log_dir=work
    ) as nginx:
        rows.append(
            measure_copy(
                "nginx, saved copy (the limit)", NGINX, nginx.port, path, page, args, work, (0, 0)
            )
        )
    return rows


def measure_copy(
    name: str,
    key: str,
    port: int,
    path: str,
    page: bytes,
    args: argparse.Namespace,
    work: Path,
    cost: tuple[int, int],
) -> Figures:
    before = fetch(port, path)
    if before.status != 200 or before.body != page:
        raise BenchError(f"{name} did not answer 200 with the saved page's exact bytes.")
    result, load_average = warm_and_load(f"http://127.0.0.1:{port}{path}", args, work)
    unchanged = same_size(result, raw_size(before)) and fetch(port, path, timeout=60).body == page
    by_design = Work(sql_queries=cost[0], cache_round_trips=cost[1], commands=(), status=200)
    return figures(key, name, path, result, load_average, work=by_design, unchanged=unchanged)


def run(args: argparse.Namespace) -> int:
    require_tool("wrk", "wrk")
    require_tool("nginx", "nginx-light")
    site_port = free_port()
    env = masthead_environment(
        database=args.database, redis_db=args.redis_db, site_url=f"http://127.0.0.1:{site_port}"
    )
    started = datetime.now(UTC)
    with tempfile.TemporaryDirectory(prefix="bench-run-") as work_name:
        work = Path(work_name)
        prepare_site(env, database=args.database, reuse_database=args.reuse_database)
        setup_django(env)
        targets = choose_targets()
        step(
            f"metered and subscriber's article: {targets['metered'].title!r} "
            f"{targets['metered'].path}"
        )
        pages, copy, content_type, _ = measure_pages(args, env, site_port, targets, work)
        saved = args.out / "metered-article.html"
        saved.parent.mkdir(parents=True, exist_ok=True)
        saved.write_bytes(copy)
        step(f"saved the metered article's {len(copy):,} bytes to {saved}")
        references = measure_references(
            args, env, copy, content_type, targets["metered"].path, work
        )
    rows = [references[1], references[0], *pages]
    info = RunInfo(
        measured_at=started.strftime("%Y-%m-%d %H:%M UTC"),
        duration_s=args.duration,
        connections=args.connections,
        workers=args.workers,
        cores=cpu_cores(),
        database="PostgreSQL + Redis, production settings",
        note=args.note,
    )
    written = write_all(rows, info, args.out)
    print()
    print(markdown_table(rows, info))
    print(
        "SQL/req and cache RT/req: counted in-process (Django's test client, the server's "
        "settings, warm cache) for one request; the floor's and nginx's are by construction. "
        "vs floor: req/s over the floor's; non-2xx: wrk's 4xx/5xx plus socket errors; bytes "
        "unchanged: every response had the probe's size and the page after the run equals the "
        "page before."
    )
    for name, path in written.items():
        shown = path.relative_to(REPO) if path.is_relative_to(REPO) else path
        print(f"{name}: {shown}")
    failed = [row.name for row in rows if row.non_2xx or not row.bytes_unchanged]
    if failed:
        print(
            f"\nbench: not every response was a 2xx with the page's bytes: {', '.join(failed)}",
            file=sys.stderr,
        )
        return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    return bench_main(run, parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
