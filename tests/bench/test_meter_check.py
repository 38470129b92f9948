"""The two-instance benchmark's meter check on fake results: it must catch every wrong count."""

from __future__ import annotations

from bench.meter_check import (
    ERRORS,
    LOST_COUNT,
    OVER_ALLOWANCE,
    PHANTOM_COUNT,
    REFUSED_EARLY,
    REREAD_REFUSED,
    STORES_DISAGREE,
    Problem,
    ReaderResult,
    check_meter,
)

ALLOWANCE = 3
# What a reader fires in the benchmark: the cookie's article (10), then 11..14 once and
# 10 and 11 again: allowance + 3 requests after the first.


def reader(name, shown, *, database=None, redis=None, refused=None, errors=0):
    """A reader whose responses showed `shown` in full and cut the rest of 10..14."""
    refused = refused if refused is not None else sorted({10, 11, 12, 13, 14} - set(shown))
    responses = [(a, True) for a in shown] + [(a, False) for a in refused]
    counted = frozenset(shown if database is None else database)
    return ReaderResult(
        reader=name,
        responses=tuple(responses),
        database=counted,
        redis=counted if redis is None else frozenset(redis),
        errors=errors,
    )


def test_an_exact_meter_passes_with_repeats_of_counted_articles():
    exact = reader("a:exact", [10, 12, 14, 10, 12])

    check = check_meter([exact], ALLOWANCE)

    assert check.exact
    assert check.problems == ()
    assert check.readers == 1
    assert check.responses == 7
    assert check.full_responses == 5
    assert "the meter is EXACT" in check.summary()


def test_one_article_too_many_and_one_count_lost_are_both_reported():
    too_many = reader("a:over", [10, 11, 12, 13])
    lost = reader("a:lost", [10, 11, 12], database=[10, 11], redis=[10, 11])
    fine = reader("a:fine", [10, 13, 14])

    check = check_meter([too_many, lost, fine], ALLOWANCE)

    assert not check.exact
    assert check.problems == (
        Problem("a:over", OVER_ALLOWANCE, "4 articles in full (10, 11, 12, 13), allows 3"),
        Problem("a:lost", LOST_COUNT, "shown in full, not in the database: 12"),
    )
    summary = check.summary()
    assert "the meter is WRONG (2 problems)" in summary
    assert "a:over: over allowance" in summary
    assert "a:lost: lost count" in summary
    assert "a:fine" not in summary


def test_a_reader_refused_with_allowance_left_is_reported():
    check = check_meter([reader("a:early", [10, 11])], ALLOWANCE)

    assert check.problems == (
        Problem("a:early", REFUSED_EARLY, "2 articles in full (10, 11), expected 3"),
    )


def test_a_reread_refused_a_phantom_count_stores_disagreeing_and_errors_are_reported():
    refused_reread = reader("a:reread", [10, 11, 12], refused=[13, 14, 11])
    phantom = reader("a:phantom", [10, 11, 12], database=[10, 11, 12, 13])
    disagree = reader("a:stores", [10, 11, 12], redis=[10, 11])
    failed = reader("a:failed", [10, 11, 12], errors=2)

    check = check_meter([refused_reread, phantom, disagree, failed], ALLOWANCE)

    assert [(p.reader, p.kind) for p in check.problems] == [
        ("a:reread", REREAD_REFUSED),
        ("a:phantom", PHANTOM_COUNT),
        ("a:stores", STORES_DISAGREE),
        ("a:failed", ERRORS),
    ]
    assert check.problems[2].detail == "database {10, 11, 12}, Redis {10, 11}"
    assert check.responses == 5 + 6 + 5 + 7


def test_a_reader_asking_for_fewer_articles_than_the_allowance_gets_them_all():
    few = ReaderResult("a:few", ((10, True), (11, True), (10, True)), frozenset({10, 11}))

    assert check_meter([few], ALLOWANCE).exact
    assert check_meter([few], 1).problems[0].kind == OVER_ALLOWANCE
