from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from masthead.metering.models import MeterPolicy, PeriodKind
from masthead.metering.policy import month_window, new_window, period_phrase

NEW_YORK = ZoneInfo("America/New_York")


def test_month_follows_the_site_time_zone_not_utc(settings):
    settings.TIME_ZONE = "America/New_York"
    # 23:59 on Sep. 30 in New York is already October in UTC.
    last_minute = datetime(2026, 9, 30, 23, 59, tzinfo=NEW_YORK)
    assert last_minute.astimezone(UTC).month == 10
    assert month_window(last_minute).key == "m2026-09"
    assert month_window(last_minute + timedelta(minutes=1)).key == "m2026-10"


def test_month_window_bounds_are_local_midnights(settings):
    settings.TIME_ZONE = "America/New_York"
    window = month_window(datetime(2026, 12, 10, tzinfo=UTC))
    assert window.opens_at == datetime(2026, 12, 1, tzinfo=NEW_YORK)
    assert window.closes_at == datetime(2027, 1, 1, tzinfo=NEW_YORK)


def test_month_across_daylight_saving_change_still_ends_at_local_midnight(settings):
    settings.TIME_ZONE = "America/New_York"
    window = month_window(datetime(2026, 11, 20, tzinfo=UTC))
    assert window.closes_at.astimezone(NEW_YORK).hour == 0
    elapsed = window.closes_at.astimezone(UTC) - window.opens_at.astimezone(UTC)
    assert elapsed == timedelta(days=30, hours=1)


@given(
    st.datetimes(
        min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
    )
)
def test_every_instant_lies_in_its_month_window(moment):
    window = month_window(moment)
    assert window.opens_at <= moment < window.closes_at
    assert window.key == f"m{moment.astimezone(ZoneInfo('America/New_York')):%Y-%m}"


def test_rolling_window_opens_at_the_first_read():
    policy = MeterPolicy(period_kind=PeriodKind.ROLLING_DAYS, rolling_days=30)
    now = datetime(2026, 9, 15, 8, 30, tzinfo=UTC)
    window = new_window(policy, now)
    assert (window.opens_at, window.closes_at) == (now, now + timedelta(days=30))


def test_period_copy_matches_the_period_kind():
    assert period_phrase(MeterPolicy()) == "this month"
    rolling = MeterPolicy(period_kind=PeriodKind.ROLLING_DAYS, rolling_days=30)
    assert period_phrase(rolling) == "in the next 30 days"
    rolling.rolling_days = 1
    assert period_phrase(rolling) == "in the next 1 day"
