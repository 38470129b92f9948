"""The benchmark harness reads wrk's report right (a misread unit would print bogus figures)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bench.harness import BenchError, parse_wrk_output

# A real `wrk --latency` report (Debian's wrk 4.1.0, against nginx) with the WRK_TOTALS line.
REPORT = """\
Running 1s test @ http://127.0.0.1:45697/
  2 threads and 8 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     1.11ms    1.82ms  15.72ms   86.46%
    Req/Sec    11.34k     3.90k   21.03k    80.00%
  Latency Distribution
     50%  {p50}
     75%    1.37ms
     90%    3.61ms
     99%  {p99}
  22782 requests in 1.02s, 5.69MB read
{non_2xx}Requests/sec:  22345.81
Transfer/sec:      5.58MB
WRK_TOTALS {{"requests": 22782, "bytes": 5968884, "connect": 1, "read": 2, "write": 0, \
"status": {status}, "timeout": 3}}
"""


def report(p50: str = "191.00us", p99: str = "7.99ms", status: int = 0) -> str:
    non_2xx = f"  Non-2xx or 3xx responses: {status}\n" if status else ""
    return REPORT.format(p50=p50, p99=p99, status=status, non_2xx=non_2xx)


def test_parses_a_real_report_into_milliseconds_and_exact_totals():
    result = parse_wrk_output(report())

    assert result.requests_per_second == 22345.81
    assert result.p50_ms == pytest.approx(0.191)
    assert result.p99_ms == pytest.approx(7.99)
    assert result.requests == 22782
    assert result.bytes_read == 5968884
    assert result.bytes_per_response == pytest.approx(5968884 / 22782)
    assert result.error_statuses == 0
    assert result.socket_errors == {"connect": 1, "read": 2, "write": 0, "timeout": 3}


def test_counts_error_statuses_from_the_totals():
    assert parse_wrk_output(report(status=17)).error_statuses == 17


@given(
    value=st.decimals(min_value="0.01", max_value="999.99", places=2),
    unit=st.sampled_from([("us", 0.001), ("ms", 1.0), ("s", 1000.0), ("m", 60_000.0)]),
)
def test_latency_units_convert_to_milliseconds(value, unit):
    suffix, factor = unit
    result = parse_wrk_output(report(p50=f"{value}{suffix}", p99=f"{value}{suffix}"))

    assert result.p50_ms == pytest.approx(float(value) * factor)
    assert result.p99_ms == pytest.approx(float(value) * factor)


def test_a_report_without_totals_is_refused_not_misread():
    without_totals = "\n".join(line for line in report().splitlines() if "WRK_TOTALS" not in line)

    with pytest.raises(BenchError, match="Could not read wrk's report"):
        parse_wrk_output(without_totals)
