"""Is the meter exact? The check `bench/instances.py` runs on what many readers got.

Pure: it takes, for every reader, the responses they got (which article, whether its full
text came back) and what the stores hold for them (the database's MeteredRead rows, the
Redis hash), and lists every way the meter was wrong. tests/bench runs it on fake results.

For a reader with allowance A who asked for D distinct metered articles:
- never more: at most A distinct articles came back in full (`over allowance`);
- never fewer: min(A, D) did (`refused early`);
- a re-read of an article counted for them is shown in full (`re-read refused`);
- every article shown in full is counted in the database (`lost count`), and nothing is
  counted that was not shown (`counted, not shown`);
- Redis holds the same articles as the database (`stores disagree`);
- and every response was a 200 (`errors`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

OVER_ALLOWANCE = "over allowance"
REFUSED_EARLY = "refused early"
REREAD_REFUSED = "re-read refused"
LOST_COUNT = "lost count"
PHANTOM_COUNT = "counted, not shown"
STORES_DISAGREE = "stores disagree"
ERRORS = "errors"


@dataclass(frozen=True)
class ReaderResult:
    reader: str  # the reader's key (`a:<anonymous id>`)
    responses: tuple[tuple[int, bool], ...]  # (article id, full text shown) per 200 response
    database: frozenset[int]  # articles in the reader's MeteredRead rows
    redis: frozenset[int] | None = None  # articles in the reader's Redis hash (None: not read)
    errors: int = 0  # responses that were not a 200, or failed


@dataclass(frozen=True)
class Problem:
    reader: str
    kind: str
    detail: str


@dataclass(frozen=True)
class MeterCheck:
    allowance: int
    readers: int
    responses: int
    full_responses: int
    problems: tuple[Problem, ...] = field(default=())

    @property
    def exact(self) -> bool:
        return not self.problems

    def summary(self, *, limit: int = 10) -> str:
        head = (
            f"{self.readers:,} readers, {self.responses:,} responses, "
            f"{self.full_responses:,} with the full text, allowance {self.allowance}: "
        )
        if self.exact:
            return head + (
                "the meter is EXACT (no reader over the allowance, none refused early, "
                "no lost or phantom counts, the database and Redis agree)"
            )
        lines = [head + f"the meter is WRONG ({len(self.problems)} problems)"]
        lines += [f"  {p.reader}: {p.kind}: {p.detail}" for p in self.problems[:limit]]
        if len(self.problems) > limit:
            lines.append(f"  ... and {len(self.problems) - limit} more")
        return "\n".join(lines)


def _ids(articles: Iterable[int]) -> str:
    return ", ".join(str(a) for a in sorted(articles))


def reader_problems(result: ReaderResult, allowance: int) -> list[Problem]:
    problems: list[Problem] = []

    def problem(kind: str, detail: str) -> None:
        problems.append(Problem(result.reader, kind, detail))

    requested = {article for article, _ in result.responses}
    shown = {article for article, full in result.responses if full}
    if len(shown) > allowance:
        problem(
            OVER_ALLOWANCE, f"{len(shown)} articles in full ({_ids(shown)}), allows {allowance}"
        )
    expected = min(allowance, len(requested))
    if len(shown) < expected:
        problem(
            REFUSED_EARLY, f"{len(shown)} articles in full ({_ids(shown)}), expected {expected}"
        )
    refused = sorted({a for a, full in result.responses if not full and a in shown})
    if refused:
        problem(REREAD_REFUSED, f"shown in full once, then refused: {_ids(refused)}")
    if lost := shown - result.database:
        problem(LOST_COUNT, f"shown in full, not in the database: {_ids(lost)}")
    if phantom := result.database - shown:
        problem(PHANTOM_COUNT, f"in the database, never shown in full: {_ids(phantom)}")
    if result.redis is not None and result.redis != result.database:
        problem(
            STORES_DISAGREE,
            f"database {{{_ids(result.database)}}}, Redis {{{_ids(result.redis)}}}",
        )
    if result.errors:
        problem(ERRORS, f"{result.errors} responses were not a 200")
    return problems


def check_meter(results: Sequence[ReaderResult], allowance: int) -> MeterCheck:
    problems = [p for result in results for p in reader_problems(result, allowance)]
    return MeterCheck(
        allowance=allowance,
        readers=len(results),
        responses=sum(len(r.responses) + r.errors for r in results),
        full_responses=sum(full for r in results for _, full in r.responses),
        problems=tuple(problems),
    )
