"""The benchmark's figures as one markdown table, a PNG chart (Pillow) and a JSON file.

Pure: nothing here starts a server or measures anything, so tests/bench runs it on fixed
figures. `bench/run.py` fills `Figures` rows and a `RunInfo`, then calls `write_all`.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

FLOOR = "floor"
NGINX = "nginx"
# The targets: every signed-out page at half the floor or better (the metered
# article at the floor itself, the subscriber's article at 0.35).
TARGETS = {"metered": 1.0, "subscriber": 0.35}
DEFAULT_TARGET = 0.5


@dataclass(frozen=True)
class Figures:
    """One target of one run. `key` is `floor`, `nginx` or a page key (`home`, `metered`...)."""

    key: str
    name: str
    path: str
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    sql_queries: int | None  # per request, counted in-process on a warm cache
    cache_round_trips: int | None
    requests: int
    non_2xx: int  # responses wrk counted as 4xx/5xx, plus socket errors
    bytes_unchanged: bool  # every response had the probe's size, and the page did not change
    load_average: float  # 1-minute load average just before this target's run


@dataclass(frozen=True)
class RunInfo:
    measured_at: str  # ISO date and time, UTC
    duration_s: int
    connections: int
    workers: int
    cores: int
    database: str  # "PostgreSQL + Redis"
    note: str = ""  # e.g. "smoke, loaded machine"


def ratio(figures: Figures, reference: Figures | None) -> float | None:
    if reference is None or reference.requests_per_second <= 0:
        return None
    return figures.requests_per_second / reference.requests_per_second


def target_for(key: str) -> float | None:
    if key in (FLOOR, NGINX):
        return None
    return TARGETS.get(key, DEFAULT_TARGET)


def _reference(rows: Sequence[Figures], key: str) -> Figures | None:
    return next((row for row in rows if row.key == key), None)


def _count(value: int | None) -> str:
    return "" if value is None else str(value)


def _ratio_text(value: float | None, *, percent: bool) -> str:
    if value is None:
        return ""
    return f"{value:.2%}" if percent else f"{value:.2f}"


TABLE_HEADERS = (
    "target",
    "path",
    "req/s",
    "p50 ms",
    "p99 ms",
    "SQL/req",
    "cache RT/req",
    "vs floor",
    "target",
    "vs nginx",
    "non-2xx",
    "bytes unchanged",
    "load",
)


def _unchanged_text(row: Figures) -> str:
    if not row.requests:
        return "NO (no response in time)"
    return "yes" if row.bytes_unchanged else "NO"


def table_rows(rows: Sequence[Figures]) -> list[list[str]]:
    floor, nginx = _reference(rows, FLOOR), _reference(rows, NGINX)
    cells = []
    for row in rows:
        target = target_for(row.key)
        cells.append(
            [
                row.name,
                f"`{row.path}`",
                f"{row.requests_per_second:,.0f}",
                f"{row.p50_ms:.2f}",
                f"{row.p99_ms:.2f}",
                _count(row.sql_queries),
                _count(row.cache_round_trips),
                _ratio_text(ratio(row, floor), percent=False),
                "" if target is None else f"≥ {target:.2f}",
                _ratio_text(ratio(row, nginx), percent=True),
                f"{row.non_2xx:,}",
                _unchanged_text(row),
                f"{row.load_average:.2f}",
            ]
        )
    return cells


def caption(info: RunInfo, rows: Sequence[Figures]) -> str:
    loads = [row.load_average for row in rows] or [0.0]
    note = f" ({info.note})" if info.note else ""
    return (
        f"Measured {info.measured_at}{note}: {info.database}, wrk --latency {info.duration_s} s "
        f"at {info.connections} connections, {info.workers} server workers, {info.cores} cores "
        f"shared by wrk and the server; 1-minute load average {min(loads):.2f} to {max(loads):.2f}."
    )


def markdown_table(rows: Sequence[Figures], info: RunInfo) -> str:
    """The run's table as GitHub markdown, with its caption (date, load, settings) first."""
    lines = [caption(info, rows), ""]
    lines.append("| " + " | ".join(TABLE_HEADERS) + " |")
    lines.append(
        "|" + "|".join("---" if i < 2 else "---:" for i in range(len(TABLE_HEADERS))) + "|"
    )
    for cells in table_rows(rows):
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def as_json(rows: Sequence[Figures], info: RunInfo) -> str:
    floor, nginx = _reference(rows, FLOOR), _reference(rows, NGINX)
    document = {
        "run": asdict(info),
        "rows": [
            {
                **asdict(row),
                "vs_floor": ratio(row, floor),
                "vs_nginx": ratio(row, nginx),
                "target_vs_floor": target_for(row.key),
            }
            for row in rows
        ],
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


# -- the chart ---------------------------------------------------------------------------------

WIDTH = 1200
ROW_HEIGHT = 44
LEFT = 330  # room for the names
RIGHT = 40
TOP = 110
BOTTOM = 56
COLOURS = {
    "reference": (140, 140, 140),
    "meets": (46, 125, 50),
    "misses": (198, 40, 40),
    "grid": (222, 222, 222),
    "text": (20, 20, 20),
    "background": (255, 255, 255),
}


def _bar_colour(row: Figures, floor: Figures | None) -> tuple[int, int, int]:
    target = target_for(row.key)
    if target is None:
        return COLOURS["reference"]
    value = ratio(row, floor)
    return COLOURS["meets" if value is not None and value >= target else "misses"]


def wrapped(text: str, width: int) -> list[str]:
    """`text` in lines of at most `width` characters, broken at spaces (two lines at most)."""
    lines = [""]
    for word in text.split(" "):
        if lines[-1] and len(lines[-1]) + 1 + len(word) > width and len(lines) < 2:
            lines.append(word)
        else:
            lines[-1] = f"{lines[-1]} {word}" if lines[-1] else word
    return lines


def draw_chart(rows: Sequence[Figures], info: RunInfo, path: Path) -> Path:
    """A horizontal bar chart of requests/s (log scale, so nginx and the slowest page fit),
    each bar labelled with req/s, p99 and the ratio to the floor; green where a page meets its
    target, red where it misses, grey for the references."""
    from PIL import Image, ImageDraw, ImageFont

    height = TOP + ROW_HEIGHT * max(1, len(rows)) + BOTTOM
    image = Image.new("RGB", (WIDTH, height), COLOURS["background"])
    draw = ImageDraw.Draw(image)
    title = ImageFont.load_default(size=20)
    font = ImageFont.load_default(size=14)
    small = ImageFont.load_default(size=12)
    draw.text((20, 14), "Masthead: requests per second, one run", font=title, fill=COLOURS["text"])
    for line_number, line in enumerate(wrapped(caption(info, rows), 170)):
        draw.text((20, 42 + 16 * line_number), line, font=small, fill=COLOURS["text"])
    draw.text(
        (20, 78),
        "bar: req/s (log scale); label: req/s, p99, vs floor (target). "
        "Green meets its target, red misses, grey: references.",
        font=small,
        fill=COLOURS["text"],
    )
    top_value = max([row.requests_per_second for row in rows] + [10.0])
    decades = max(1, math.ceil(math.log10(top_value)))
    span = WIDTH - LEFT - RIGHT

    def x_of(value: float) -> float:
        return LEFT + span * (math.log10(max(value, 1.0)) / decades)

    plot_bottom = TOP + ROW_HEIGHT * len(rows)
    for decade in range(decades + 1):
        x = x_of(10.0**decade)
        draw.line([(x, TOP - 6), (x, plot_bottom)], fill=COLOURS["grid"], width=1)
        draw.text((x - 10, plot_bottom + 8), f"{10**decade:,}", font=small, fill=COLOURS["text"])
    floor = _reference(rows, FLOOR)
    for index, row in enumerate(rows):
        y = TOP + ROW_HEIGHT * index
        draw.text((20, y + 12), row.name, font=font, fill=COLOURS["text"])
        end = x_of(row.requests_per_second)
        draw.rectangle(
            [(LEFT, y + 8), (max(end, LEFT + 2), y + ROW_HEIGHT - 8)], fill=_bar_colour(row, floor)
        )
        value = ratio(row, floor)
        target = target_for(row.key)
        label = f"{row.requests_per_second:,.0f}/s  p99 {row.p99_ms:.1f} ms"
        if value is not None and row.key != FLOOR:
            label += f"  {value:.2f} of floor"
            if target is not None:
                label += f" (target {target:.2f})"
        if row.non_2xx or not row.bytes_unchanged:
            label += "  CHECK: non-2xx or bytes changed"
        label_width = draw.textlength(label, font=small)
        inside = end - LEFT > label_width + 12
        draw.text(
            (end - label_width - 6 if inside else end + 6, y + 14),
            label,
            font=small,
            fill=COLOURS["background"] if inside else COLOURS["text"],
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path, format="PNG")
    return path


def write_all(rows: Sequence[Figures], info: RunInfo, out_dir: Path) -> dict[str, Path]:
    """pages.md, pages.json and pages.png in `out_dir`; returns their paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = {
        "table": out_dir / "pages.md",
        "json": out_dir / "pages.json",
        "chart": out_dir / "pages.png",
    }
    written["table"].write_text(markdown_table(rows, info))
    written["json"].write_text(as_json(rows, info))
    draw_chart(rows, info, written["chart"])
    return written
