"""Split tests' arithmetic: a stable assignment, a split within tolerance over a large
population, independent experiments, and the intervals against published reference values."""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass

import pytest

from masthead.experiments.assignment import BUCKETS, bucket, pick
from masthead.insights.splits import newcombe, wilson


@dataclass(frozen=True)
class V:
    name: str
    weight: int


ARMS = (V("control", 50), V("b", 30), V("c", 20))
POPULATION = 20_000


def test_a_reader_is_assigned_once_and_for_good():
    keys = [f"a:{n:08x}" for n in range(500)] + [f"u:{n}" for n in range(500)]
    first = [pick("salt-1", k, ARMS).name for k in keys]
    again = [pick("salt-1", k, ARMS).name for k in keys]
    assert first == again
    # The hash is SHA-256, not Python's per-process hash(): this value is the same everywhere.
    assert (
        bucket("salt-1", "u:42")
        == int.from_bytes(__import__("hashlib").sha256(b"salt-1:u:42").digest()[:8], "big")
        % BUCKETS
    )


def test_no_key_is_the_control():
    assert pick("salt-1", None, ARMS).name == "control"


def test_the_split_is_within_tolerance_over_a_large_population():
    counts = Counter(pick("salt-2", f"a:{n}", ARMS).name for n in range(POPULATION))
    for arm in ARMS:
        p = arm.weight / 100
        expected = POPULATION * p
        # Four binomial standard deviations: a fair hash misses this about once in 16,000.
        tolerance = 4 * math.sqrt(POPULATION * p * (1 - p))
        assert abs(counts[arm.name] - expected) < tolerance, (arm.name, counts[arm.name])
    assert sum(counts.values()) == POPULATION


def test_two_experiments_split_readers_independently():
    """With another salt, the readers of one arm spread over the other experiment's arms in
    its proportions (no experiment inherits another's split)."""
    two = (V("x", 50), V("y", 50))
    in_control = [f"a:{n}" for n in range(POPULATION) if pick("salt-3", f"a:{n}", two).name == "x"]
    counts = Counter(pick("salt-4", k, two).name for k in in_control)
    n = len(in_control)
    assert abs(counts["x"] - n / 2) < 4 * math.sqrt(n / 4)


def test_weights_of_one_percent_get_their_buckets():
    arms = (V("a", 1), V("b", 99))
    counts = Counter(pick("salt-5", f"u:{n}", arms).name for n in range(POPULATION))
    assert abs(counts["a"] - 200) < 4 * math.sqrt(POPULATION * 0.01 * 0.99)


def test_wilson_matches_newcombes_published_value():
    """Newcombe (1998), "Two-sided confidence intervals for the single proportion: comparison
    of seven methods", Statistics in Medicine 17:857-872, Table I: 81/263, Wilson score
    interval 0.2553 to 0.3662."""
    low, high = wilson(81, 263)
    assert (round(low, 4), round(high, 4)) == (0.2553, 0.3662)


def test_the_difference_interval_matches_newcombes_method_10():
    """Newcombe (1998), "Interval estimation for the difference between independent
    proportions: comparison of eleven methods", Statistics in Medicine 17:873-890, Table II,
    example (a) 56/70 - 48/80, method 10 (hybrid score): 0.0524 to 0.3339."""
    low, high = newcombe((56, 70), (48, 80))
    assert (round(low, 4), round(high, 4)) == (0.0524, 0.3339)


@pytest.mark.parametrize(
    ("successes", "trials", "expected"),
    [(0, 0, (0.0, 1.0)), (0, 10, (0.0, 0.2775)), (10, 10, (0.7225, 1.0))],
)
def test_wilson_at_the_edges(successes, trials, expected):
    low, high = wilson(successes, trials)
    assert (round(low, 4), round(high, 4)) == expected
