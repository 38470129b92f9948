"""Benchmark the article page against two references serving the same bytes. Prints figures.

    .venv/bin/python bench/article_page.py               # 20 s at 32 connections per target
    .venv/bin/python bench/article_page.py --duration 5  # a quick look

In one run: refresh the PostgreSQL database `mh_bench_article` and Redis db 9, migrate and load
the demo newsroom, collect static files into the bench's STATIC_ROOT, start `masthead serve`
(granian, DEBUG off, hashed static files), pick the demo's analysis article, save the page's
exact bytes, and load it with wrk. Then load the same
bytes from the Python floor (bench/floor_app.py: Django, one Redis GET, granian with the same
workers) and from nginx (the physical limit). Everything runs on 127.0.0.1 and every process
started here is stopped on exit, error or Ctrl-C. Not a test: nothing is asserted on time.
"""

from __future__ import annotations

import argparse
import html
import re
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR))

from harness import (  # noqa: E402  (bench/ is not a package)
    REPO,
    BenchError,
    LoadResult,
    Response,
    bench_main,
    checked_arguments,
    count_work,
    cpu_cores,
    fetch,
    floor_server,
    free_port,
    load_arguments,
    masthead_environment,
    nginx_serving,
    prepare_site,
    print_table,
    raw_size,
    require_tool,
    running,
    same_size,
    serve_argv,
    setup_django,
    step,
    warm_and_load,
)

TARGET_FLOOR_RATIO = 0.5


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    load_arguments(
        parser, duration=20, warmup=3, workers=cpu_cores(), database="mh_bench_article", redis_db=9
    )
    parser.add_argument("--path", help="benchmark this URL path instead of the analysis article")
    return checked_arguments(parser, argv, quick=False)


@dataclass(frozen=True)
class Candidate:
    title: str
    path: str
    access_level: str
    last_words: str  # the end of the body: present in the page only when it is shown in full


def visible_text(markup: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", markup)).split())


def demo_articles(env: dict[str, str]) -> tuple[Candidate | None, Candidate | None]:
    """(the analysis piece, the longest free article), read through Django in this process."""
    setup_django(env)
    from django.db import connections

    from masthead.newsroom.models import AccessLevel, ArticlePage

    def candidate(article: ArticlePage) -> Candidate:
        texts = [
            visible_text(str(b.value.source)) for b in article.body if b.block_type == "paragraph"
        ]
        url_parts = article.get_url_parts()
        if url_parts is None:
            raise BenchError(f"Article {article.title!r} has no URL (no site?).")
        return Candidate(
            title=article.title,
            path=url_parts[2],
            access_level=article.access_level,
            last_words=" ".join(" ".join(texts).split()[-12:]),
        )

    def analysis_score(article: ArticlePage) -> tuple[int, int]:
        kinds = [block.block_type for block in article.body]
        shaped = bool(article.dateline and article.hero_image_id) and kinds.count("subheading") >= 3
        words = sum(
            len(visible_text(str(b.value.source)).split())
            for b in article.body
            if b.block_type == "paragraph"
        )
        return (int(shaped), words)

    from django.db import DatabaseError

    try:
        try:
            articles = list(ArticlePage.objects.live().public().specific())
        except DatabaseError as error:
            raise BenchError(
                f"Cannot read the demo's articles ({error}); run without --reuse-database."
            ) from None
        if not articles:
            return None, None
        analysis = max(articles, key=analysis_score)
        free = [a for a in articles if a.access_level == AccessLevel.FREE]
        longest_free = max(free, key=analysis_score) if free else None
        return candidate(analysis), candidate(longest_free) if longest_free else None
    finally:
        connections.close_all()


@dataclass(frozen=True)
class Row:
    name: str
    load: LoadResult
    expected_bytes: int
    load_average: float  # 1-minute, just before the run: other work on the machine skews figures

    def only_2xx(self) -> bool:
        # wrk counts 4xx/5xx; a redirect or a cut page shows up as a different size.
        return self.load.error_statuses == 0 and same_size(self.load, self.expected_bytes)


def measure(name: str, url: str, expected_bytes: int, args: argparse.Namespace, work: Path) -> Row:
    load, load_average = warm_and_load(url, args, work)
    step(f"{name}: {load.requests_per_second:,.0f} requests/s")
    return Row(name, load, expected_bytes, load_average)


def expect_page(response: Response, what: str, page: bytes | None = None) -> None:
    if response.status != 200:
        raise BenchError(f"{what} answered {response.status}, not 200: {response.body[:300]!r}")
    if page is not None and response.body != page:
        raise BenchError(f"{what} did not return the saved page's exact bytes.")


def choose_page(
    port: int, analysis: Candidate | None, free: Candidate | None, forced_path: str | None
) -> tuple[str, str, Response]:
    """(path, what was chosen and why, the page as a fresh reader gets it)."""
    if forced_path:
        return forced_path, f"the page at {forced_path} (--path)", fetch(port, forced_path)
    if analysis is None:
        raise BenchError("The demo has no published article to benchmark.")
    response = fetch(port, analysis.path)
    if analysis.last_words in visible_text(response.body.decode(errors="replace")):
        why = f"({analysis.access_level}); a fresh reader reads it in full"
        return analysis.path, f"the analysis article {analysis.title!r} {why}", response
    if free is None:
        raise BenchError(
            "The analysis article is cut for a fresh reader and the demo has no free article."
        )
    why = f"the analysis article {analysis.title!r} ({analysis.access_level}) is cut for a fresh"
    return free.path, f"the free article {free.title!r}: {why} reader", fetch(port, free.path)


def run(args: argparse.Namespace) -> None:
    require_tool("wrk", "wrk")
    require_tool("nginx", "nginx-light")
    site_port = free_port()
    env = masthead_environment(
        database=args.database, redis_db=args.redis_db, site_url=f"http://127.0.0.1:{site_port}"
    )
    with tempfile.TemporaryDirectory(prefix="bench-article-") as work_name:
        work = Path(work_name)
        prepare_site(env, database=args.database, reuse_database=args.reuse_database)

        analysis, free = demo_articles(env)
        if analysis is None and not args.path:
            raise BenchError("The demo has no published article to benchmark.")
        step(f"starting masthead serve ({args.workers} workers) on port {site_port}")
        with running(
            "masthead serve",
            serve_argv(site_port, args.workers),
            port=site_port,
            env=env,
            log_dir=work,
            timeout=180,
        ) as site:
            path, choice, response = choose_page(site_port, analysis, free, args.path)
            expect_page(response, f"The article page {path}")
            page = response.body
            content_type = response.header("Content-Type") or "text/html; charset=utf-8"
            saved = REPO / "var" / "bench" / "article-page.html"
            saved.write_bytes(page)
            step(f"benchmarking {choice}")
            step(f"saved the page's {len(page):,} bytes to {saved.relative_to(REPO)}")
            cost = count_work(path)
            work_done = (
                f"{cost.sql_queries} SQL queries and {cost.cache_round_trips} cache round trips "
                f"({', '.join(cost.commands) or 'none'}) per fresh reader's request"
            )
            step(work_done)
            rows = [
                measure(
                    "article page (masthead serve)",
                    site.base_url + path,
                    raw_size(response),
                    args,
                    work,
                )
            ]

        with floor_server(
            page, content_type, workers=args.workers, log_dir=work, redis_url=env["REDIS_URL"]
        ) as floor:
            floor_response = fetch(floor.port, path)
            expect_page(floor_response, "The Python floor", page)
            rows.append(
                measure(
                    "python floor (Django view + 1 Redis GET)",
                    floor.base_url + path,
                    raw_size(floor_response),
                    args,
                    work,
                )
            )

        with nginx_serving(
            page, content_type=content_type, workers=args.workers, log_dir=work
        ) as nginx:
            nginx_response = fetch(nginx.port, path)
            expect_page(nginx_response, "nginx", page)
            rows.append(
                measure(
                    "nginx (saved copy)",
                    nginx.base_url + path,
                    raw_size(nginx_response),
                    args,
                    work,
                )
            )

    report(rows, page, choice, work_done, args)


def report(
    rows: list[Row], page: bytes, choice: str, work_done: str, args: argparse.Namespace
) -> None:
    print()
    print(f"Article: {choice}")
    print(f"Page: {len(page):,} bytes of HTML (the same bytes from all three servers)")
    print(f"Article page work: {work_done}")
    print(
        f"Load: wrk --latency, {args.duration} s at {args.connections} connections, "
        f"{args.threads} threads, after a {args.warmup} s warm-up; {args.workers} server "
        f"workers each; {cpu_cores()} cores shared by wrk and the server"
    )
    print()
    print_table(
        ["server", "requests/s", "p50 ms", "p99 ms", "requests", "4xx/5xx", "bytes/resp", "load"],
        [
            [
                row.name,
                f"{row.load.requests_per_second:,.0f}",
                f"{row.load.p50_ms:.2f}",
                f"{row.load.p99_ms:.2f}",
                f"{row.load.requests:,}",
                f"{row.load.error_statuses:,}",
                f"{row.load.bytes_per_response:,.0f}",
                f"{row.load_average:.1f}",
            ]
            for row in rows
        ],
    )
    busiest = max(row.load_average for row in rows)
    if busiest > 0.5 * cpu_cores():
        print(
            f"(load: the 1-minute load average before each run; it reached {busiest:.1f} on "
            f"{cpu_cores()} cores, so other processes competed with these figures)"
        )
    article, floor, nginx = (row.load.requests_per_second for row in rows)
    print()
    print(f"article / floor: {article / floor:.2f}  (target: at least {TARGET_FLOOR_RATIO})")
    print(f"article / nginx: {article / nginx:.3f}")
    print(f"floor / nginx:   {floor / nginx:.3f}")
    print()
    for row in rows:
        errors = {k: v for k, v in row.load.socket_errors.items() if v}
        if row.only_2xx():
            verdict = "every response was 2xx (no 4xx/5xx, and every response had the page's size)"
        else:
            verdict = (
                f"NOT all 2xx: {row.load.error_statuses} responses were 4xx/5xx; average "
                f"size {row.load.bytes_per_response:,.0f} bytes, expected "
                f"{row.expected_bytes:,}"
            )
        socket_note = f"; socket errors {errors}" if errors else "; no socket errors"
        print(f"{row.name}: {verdict}{socket_note}")


def main(argv: list[str] | None = None) -> int:
    return bench_main(run, parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
