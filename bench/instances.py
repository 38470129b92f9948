"""Two `masthead serve` instances behind nginx on one PostgreSQL and one Redis: is the meter
exact across them under load, and what does a second instance give? Prints figures.

    .venv/bin/python bench/instances.py              # 200 readers, then 10 s per wrk run
    .venv/bin/python bench/instances.py --quick      # 2 s per wrk run: a smoke check
    make bench-instances

In one run: a fresh PostgreSQL database and Redis db with the demo newsroom (production
settings, MASTHEAD_INSTANCES=2), two instances on two ports, and nginx (temporary prefix) with
two fronts: one proxying to instance A alone, one round-robin over A and B.

1. The meter check, through the two-instance front: every reader (default 200) first reads a
   metered article with no cookie and keeps the reader cookie it gets; then all readers fire,
   concurrently, allowance+3 requests each (every other metered article once, two of them
   again), so requests of one reader land on both instances at once. For every reader the
   articles shown in full must be exactly what the policy allows (bench/meter_check.py), and
   the database's MeteredRead rows and the Redis hash must hold exactly those.
2. Throughput: wrk on the metered article (fresh readers) and the home page through the
   one-instance front, then through the two-instance front.

Every request stays on 127.0.0.1; every process started here is stopped on exit, error,
Ctrl-C or SIGTERM. Not a test: nothing is asserted on time.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import random
import sys
import tempfile
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR))

from harness import (  # noqa: E402  (bench/ is not a package)
    LOOPBACK,
    VAR_BENCH,
    BenchError,
    LoadResult,
    bench_main,
    checked_arguments,
    cpu_cores,
    free_port,
    last_words,
    load_arguments,
    masthead_environment,
    nginx_proxying,
    prepare_site,
    print_table,
    running,
    serve_argv,
    setup_django,
    step,
    visible_text,
    warm_and_load,
)
from meter_check import MeterCheck, ReaderResult, check_meter  # noqa: E402

PAYWALL_MARK = 'id="paywall"'  # access/paywall.html: present only on a cut page


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--readers", type=int, default=200, help="fresh readers in the check")
    parser.add_argument(
        "--concurrency", type=int, default=48, help="requests in flight during the check"
    )
    load_arguments(
        parser, duration=10, warmup=2, workers=1, database="mh_bench_instances", redis_db=8
    )
    parser.add_argument("--out", type=Path, default=VAR_BENCH)
    parser.add_argument("--seed", type=int, default=9, help="order of the check's requests")
    args = checked_arguments(parser, argv)
    if min(args.readers, args.concurrency) < 1:
        parser.error("readers and concurrency must be positive")
    return args


# -- the site's side, read in this process -------------------------------------------------------


@dataclass(frozen=True)
class Metered:
    pk: int
    path: str
    last_words: str


def metered_articles() -> tuple[list[Metered], int]:
    """(metered articles long enough that a cut page cannot end like the full one, the
    anonymous allowance)."""
    from django.db import connections

    from masthead.metering.policy import current_policy
    from masthead.newsroom.models import AccessLevel, ArticlePage

    try:
        policy = current_policy()
        pages = ArticlePage.objects.live().public().filter(sponsored=False)
        articles = []
        for article in pages.filter(access_level=AccessLevel.METERED).specific().order_by("pk"):
            paragraphs = [b for b in article.body if b.block_type == "paragraph"]
            parts = article.get_url_parts()
            if parts and paragraphs and len(article.body) > policy.preview_blocks:
                articles.append(Metered(article.pk, str(parts[2]), last_words(article)))
        return articles, int(policy.anonymous_allowance)
    finally:
        connections.close_all()


def stored_reads(reader_keys: list[str]) -> tuple[dict[str, set[int]], dict[str, set[int]]]:
    """(database MeteredRead articles, Redis hash articles) per reader key."""
    from django.db import connections

    from masthead.metering.models import MeteredRead
    from masthead.metering.stores import RedisMeterStore, get_store

    database: dict[str, set[int]] = defaultdict(set)
    redis_reads: dict[str, set[int]] = defaultdict(set)
    try:
        rows = MeteredRead.objects.filter(reader_key__in=reader_keys)
        for key, article in rows.values_list("reader_key", "article_id"):
            database[key].add(int(article))
    finally:
        connections.close_all()
    store = get_store()
    if not isinstance(store, RedisMeterStore):
        raise BenchError("The meter store is not Redis: set REDIS_URL.")
    for key in reader_keys:
        for name in store.client.scan_iter(match=f"{store.prefix}:meter:{{{key}}}:*"):
            fields = store.client.hkeys(name)
            redis_reads[key].update(int(f) for f in fields if f.decode() != "_closes")
    return database, redis_reads


# -- the readers ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Answer:
    article: int
    status: int  # 0: no answer
    full: bool
    upstream: str
    cookie: str | None  # the reader cookie it set (`name=value`)


def ask(port: int, article: Metered, cookie: str | None, cookie_name: str) -> Answer:
    connection = http.client.HTTPConnection(LOOPBACK, port, timeout=60)
    try:
        connection.request("GET", article.path, headers={"Cookie": cookie} if cookie else {})
        response = connection.getresponse()
        body = response.read().decode(errors="replace")
        set_cookie = next(
            (
                value.split(";", 1)[0]
                for name, value in response.getheaders()
                if name.lower() == "set-cookie" and value.startswith(f"{cookie_name}=")
            ),
            None,
        )
        full = PAYWALL_MARK not in body and article.last_words in visible_text(body)
        return Answer(
            article.pk,
            response.status,
            full,
            response.getheader("X-Bench-Upstream") or "",
            set_cookie,
        )
    except OSError:
        return Answer(article.pk, 0, False, "", None)
    finally:
        connection.close()


def anonymous_key(cookie: str) -> str:
    """`a:<id>` from `mh_reader=<id>[.<article>.<at>]:<signature>` (identity.py's format)."""
    value = cookie.split("=", 1)[1].strip('"')
    return f"a:{value[:32]}"


@dataclass(frozen=True)
class CheckRun:
    check: MeterCheck
    readers_on_both: int
    by_upstream: dict[str, int]
    plan: str


def meter_check(
    port: int, articles: list[Metered], allowance: int, args: argparse.Namespace
) -> CheckRun:
    from django.conf import settings

    cookie_name = settings.READER_COOKIE_NAME
    if len(articles) < allowance + 2:
        raise BenchError(f"The check needs {allowance + 2} metered articles; the demo has fewer.")
    first, others = articles[0], articles[1 : allowance + 2]
    # allowance + 1 articles once, two of them again: allowance + 3 requests per reader.
    plan = [*others, first, others[0]]
    step(
        f"meter check: {args.readers} fresh readers get their cookie from article {first.pk}, "
        f"then fire {len(plan)} requests each (articles {', '.join(str(a.pk) for a in plan)}), "
        f"{args.concurrency} in flight, through the two-instance front"
    )
    with ThreadPoolExecutor(max_workers=args.concurrency) as pool:
        openers = list(pool.map(lambda _: ask(port, first, None, cookie_name), range(args.readers)))
        readers = [(opener, opener.cookie) for opener in openers if opener.cookie]
        if len(readers) < len(openers):
            raise BenchError(
                f"{len(openers) - len(readers)} fresh readers got no reader cookie "
                f"(statuses {sorted({o.status for o in openers})})."
            )
        shuffle = random.Random(args.seed)
        tasks = []
        for index, (_, cookie) in enumerate(readers):
            mine = list(plan)
            shuffle.shuffle(mine)
            tasks += [
                (index, article, cookie) for article in mine
            ]  # one reader's requests together
        answers = list(pool.map(lambda t: (t[0], ask(port, t[1], t[2], cookie_name)), tasks))
    per_reader: dict[int, list[Answer]] = defaultdict(list)
    for index, answer in answers:
        per_reader[index].append(answer)
    keys = [anonymous_key(str(cookie)) for _, cookie in readers]
    database, redis_reads = stored_reads(keys)
    results = []
    by_upstream: dict[str, int] = defaultdict(int)
    on_both = 0
    for index, (opener, _) in enumerate(readers):
        got = [opener, *per_reader[index]]
        ok = [a for a in got if a.status == 200]
        for answer in got:
            by_upstream[answer.upstream or "(none)"] += 1
        on_both += len({a.upstream for a in got if a.upstream}) > 1
        results.append(
            ReaderResult(
                reader=keys[index],
                responses=tuple((a.article, a.full) for a in ok),
                database=frozenset(database.get(keys[index], set())),
                redis=frozenset(redis_reads.get(keys[index], set())),
                errors=len(got) - len(ok),
            )
        )
    return CheckRun(
        check=check_meter(results, allowance),
        readers_on_both=on_both,
        by_upstream=dict(by_upstream),
        plan=f"cookie from {first.pk}, then {', '.join(str(a.pk) for a in plan)}",
    )


# -- throughput ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Throughput:
    page: str
    path: str
    one: LoadResult
    two: LoadResult
    load_one: float
    load_two: float


def throughput(
    ports: dict[str, int], pages: dict[str, str], args: argparse.Namespace, work: Path
) -> list[Throughput]:
    rows = []
    for page, path in pages.items():
        measured = {}
        for front in ("one", "two"):
            url = f"http://{LOOPBACK}:{ports[front]}{path}"
            step(f"{page} through the {front}-instance front")
            measured[front] = warm_and_load(url, args, work)
        rows.append(
            Throughput(
                page,
                path,
                measured["one"][0],
                measured["two"][0],
                measured["one"][1],
                measured["two"][1],
            )
        )
    return rows


def throughput_table(rows: list[Throughput]) -> list[list[str]]:
    return [
        [
            row.page,
            f"{row.one.requests_per_second:,.0f}",
            f"{row.one.p99_ms:.1f}",
            f"{row.two.requests_per_second:,.0f}",
            f"{row.two.p99_ms:.1f}",
            f"{row.two.requests_per_second / row.one.requests_per_second:.2f}"
            if row.one.requests_per_second
            else "",
            f"{row.one.error_statuses + row.two.error_statuses:,}",
            f"{row.load_one:.2f} / {row.load_two:.2f}",
        ]
        for row in rows
    ]


THROUGHPUT_HEADERS = [
    "page",
    "1 instance req/s",
    "p99 ms",
    "2 instances req/s",
    "p99 ms",
    "2 / 1",
    "non-2xx",
    "load",
]


def run(args: argparse.Namespace) -> int:
    started = datetime.now(UTC)
    ports = [free_port(), free_port()]
    env = masthead_environment(
        database=args.database, redis_db=args.redis_db, site_url=f"http://{LOOPBACK}:{ports[0]}"
    )
    env["MASTHEAD_INSTANCES"] = "2"  # the production check then knows state must be shared
    # Both instances run on this one machine, so its MEDIA_ROOT is one shared filesystem.
    env["MASTHEAD_MEDIA_SHARED_FILESYSTEM"] = "true"
    with tempfile.TemporaryDirectory(prefix="bench-instances-") as work_name:
        work = Path(work_name)
        prepare_site(env, database=args.database, reuse_database=args.reuse_database)
        setup_django(env)
        articles, allowance = metered_articles()
        with contextlib.ExitStack() as stack:
            for name, port in zip("AB", ports, strict=True):
                step(f"instance {name}: masthead serve ({args.workers} workers) on port {port}")
                stack.enter_context(
                    running(
                        f"instance {name}",
                        serve_argv(port, args.workers),
                        port=port,
                        env=env,
                        log_dir=work,
                        timeout=180,
                    )
                )
            fronts = stack.enter_context(
                nginx_proxying({"one": ports[:1], "two": ports}, workers=cpu_cores(), log_dir=work)
            )
            checked = meter_check(fronts["two"], articles, allowance, args)
            rows = throughput(
                fronts, {"metered article": articles[0].path, "home page": "/"}, args, work
            )
    loads = [r.load_one for r in rows] + [r.load_two for r in rows]
    print()
    print(
        f"Two instances, measured {started:%Y-%m-%d %H:%M UTC}"
        f"{' (smoke, --quick)' if args.quick else ''}: "
        f"PostgreSQL + Redis, production settings, {args.workers} worker(s) per instance, "
        f"nginx round robin, {cpu_cores()} cores shared by everything; 1-minute load average "
        f"{min(loads):.2f} to {max(loads):.2f}."
    )
    print()
    print(f"Meter check ({checked.plan}):")
    print(checked.check.summary())
    print(
        f"{checked.readers_on_both} of {checked.check.readers} readers had requests answered by "
        f"both instances; responses per instance: "
        + ", ".join(f"{k} {v:,}" for k, v in sorted(checked.by_upstream.items()))
    )
    print()
    print(
        f"Throughput (wrk --latency, {args.duration} s at {args.connections} connections, "
        "through nginx):"
    )
    print_table(THROUGHPUT_HEADERS, throughput_table(rows))
    print(
        f"\nOn {cpu_cores()} cores, wrk, nginx, Redis, PostgreSQL and the instances share the same "
        f"CPUs. With {args.workers} worker(s) per instance, one instance runs on at most "
        f"{args.workers} core(s) and two on {2 * args.workers}: 2 / 1 measures that, not "
        "what a second machine would add; a second instance adds processes, not cores, and on "
        "a loaded machine extra processes also take a bigger share of the CPU from the rest."
    )
    out = args.out / "instances.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(
        json.dumps(
            {
                "measured_at": started.isoformat(timespec="minutes"),
                "workers_per_instance": args.workers,
                "meter": {
                    "exact": checked.check.exact,
                    "allowance": checked.check.allowance,
                    "readers": checked.check.readers,
                    "responses": checked.check.responses,
                    "full_responses": checked.check.full_responses,
                    "readers_on_both_instances": checked.readers_on_both,
                    "problems": [asdict(p) for p in checked.check.problems],
                },
                "throughput": [
                    {
                        "page": r.page,
                        "path": r.path,
                        "one": asdict(r.one),
                        "two": asdict(r.two),
                        "load_one": r.load_one,
                        "load_two": r.load_two,
                    }
                    for r in rows
                ],
            },
            indent=2,
        )
        + "\n"
    )
    print(f"figures: {out}")
    return 0 if checked.check.exact else 1


def main(argv: list[str] | None = None) -> int:
    return bench_main(run, parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
