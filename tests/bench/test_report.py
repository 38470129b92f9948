"""The benchmark's table, JSON and chart from fixed figures (no server, no timing)."""

from __future__ import annotations

import json

import pytest
from PIL import Image

from bench.report import Figures, RunInfo, as_json, draw_chart, markdown_table, write_all

INFO = RunInfo(
    measured_at="2026-11-30 21:05 UTC",
    duration_s=20,
    connections=32,
    workers=2,
    cores=2,
    database="PostgreSQL + Redis, production settings",
    note="smoke, loaded machine",
)


def row(key, name, path, rps, p50, p99, sql, rt, *, non_2xx=0, unchanged=True, load=1.5):
    return Figures(
        key=key,
        name=name,
        path=path,
        requests_per_second=rps,
        p50_ms=p50,
        p99_ms=p99,
        sql_queries=sql,
        cache_round_trips=rt,
        requests=int(rps * 20),
        non_2xx=non_2xx,
        bytes_unchanged=unchanged,
        load_average=load,
    )


ROWS = [
    row("nginx", "nginx, saved copy", "/world/a/", 107967, 0.1, 8, 0, 0, load=1.25),
    row("floor", "python floor", "/world/a/", 10110, 3.0, 8, 0, 1),
    row("metered", "metered article", "/world/a/", 2203, 14.5, 24, 0, 1),
    row("home", "home page", "/", 64, 500.0, 878, 18, 25, non_2xx=3, unchanged=False, load=2.75),
]

EXPECTED_TABLE = "\n".join(
    [
        "Measured 2026-11-30 21:05 UTC (smoke, loaded machine): PostgreSQL + Redis, production "
        "settings, wrk --latency 20 s at 32 connections, 2 server workers, 2 cores shared by wrk "
        "and the server; 1-minute load average 1.25 to 2.75.",
        "",
        "| target | path | req/s | p50 ms | p99 ms | SQL/req | cache RT/req | vs floor | target "
        "| vs nginx | non-2xx | bytes unchanged | load |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        "| nginx, saved copy | `/world/a/` | 107,967 | 0.10 | 8.00 | 0 | 0 | 10.68 |  | 100.00% "
        "| 0 | yes | 1.25 |",
        "| python floor | `/world/a/` | 10,110 | 3.00 | 8.00 | 0 | 1 | 1.00 |  | 9.36% | 0 | yes "
        "| 1.50 |",
        "| metered article | `/world/a/` | 2,203 | 14.50 | 24.00 | 0 | 1 | 0.22 | ≥ 1.00 | 2.04% "
        "| 0 | yes | 1.50 |",
        "| home page | `/` | 64 | 500.00 | 878.00 | 18 | 25 | 0.01 | ≥ 0.50 | 0.06% | 3 | NO "
        "| 2.75 |",
        "",
    ]
)


def test_the_table_is_exact_markdown_with_ratios_targets_and_checks():
    assert markdown_table(ROWS, INFO) == EXPECTED_TABLE


def test_the_json_carries_every_figure_and_the_ratios():
    document = json.loads(as_json(ROWS, INFO))

    assert document["run"]["measured_at"] == "2026-11-30 21:05 UTC"
    assert document["run"]["note"] == "smoke, loaded machine"
    home = document["rows"][3]
    assert home["key"] == "home"
    assert home["sql_queries"] == 18
    assert home["cache_round_trips"] == 25
    assert home["non_2xx"] == 3
    assert home["bytes_unchanged"] is False
    assert home["vs_floor"] == pytest.approx(64 / 10110)
    assert home["vs_nginx"] == pytest.approx(64 / 107967)
    assert home["target_vs_floor"] == 0.5
    assert document["rows"][2]["target_vs_floor"] == 1.0
    assert document["rows"][0]["target_vs_floor"] is None


def test_the_chart_is_a_png_with_a_bar_per_row(tmp_path):
    path = draw_chart(ROWS, INFO, tmp_path / "chart" / "pages.png")

    with Image.open(path) as image:
        assert image.format == "PNG"
        width, height = image.size
        assert width == 1200
        # a title band, one 44-pixel row per figure, the axis
        assert height == 110 + 44 * len(ROWS) + 56
        pixels = image.convert("RGB")
        # The metered article misses its target (0.22 of 1.0): its bar is red; nginx's is grey.
        bar_y = 110 + 44 * 2 + 22
        assert pixels.getpixel((340, bar_y)) == (198, 40, 40)
        assert pixels.getpixel((340, 110 + 22)) == (140, 140, 140)


def test_a_page_meeting_its_target_gets_a_green_bar(tmp_path):
    fast = [ROWS[1], row("free", "free article", "/world/b/", 6000, 5, 9, 0, 1)]

    with Image.open(draw_chart(fast, INFO, tmp_path / "pages.png")) as image:
        assert image.convert("RGB").getpixel((340, 110 + 44 + 22)) == (46, 125, 50)


def test_write_all_writes_the_table_the_json_and_the_chart(tmp_path):
    written = write_all(ROWS, INFO, tmp_path / "out")

    assert written["table"].read_text() == markdown_table(ROWS, INFO)
    assert json.loads(written["json"].read_text())["rows"][1]["name"] == "python floor"
    assert written["chart"].read_bytes().startswith(b"\x89PNG\r\n\x1a\n")


def test_a_run_where_no_response_completed_says_so_instead_of_bytes_changed():
    stuck = Figures(**{**ROWS[3].__dict__, "requests": 0, "requests_per_second": 0.0})

    assert (
        markdown_table([stuck], INFO)
        .splitlines()[-1]
        .endswith("| 3 | NO (no response in time) | 2.75 |")
    )
