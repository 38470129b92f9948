import pytest
from django.core.exceptions import ValidationError

from masthead.metering.copy import fill, placeholders_in
from masthead.metering.models import MeterPolicy
from tests.metering.support import save_policy


def test_known_placeholders_are_accepted():
    assert placeholders_in("You have {count} free articles left {period} on {site}") == [
        "count",
        "period",
        "site",
    ]


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("You have {numberArticlesLeft} left", "{numberArticlesLeft}"),
        ("{count.real} left", "{count.real}"),
        ("{count:>10} left", "{count:>10}"),
        ("{count!r} left", "{count!r}"),
        ("{0} left", "{0}"),
    ],
)
def test_unknown_placeholder_is_refused_with_a_message(text, shown):
    with pytest.raises(ValidationError) as refused:
        placeholders_in(text)
    assert refused.value.code == "unknown_placeholder"
    assert refused.value.messages == [
        f"Unknown placeholder {shown}: use only {{count}}, {{period}} or {{site}}."
    ]


@pytest.mark.parametrize("text", ["You have {count left", "left} here", "{{count}"])
def test_stray_braces_are_refused(text):
    with pytest.raises(ValidationError):
        placeholders_in(text)


def test_fill_renders_each_placeholder_once():
    assert fill("{count} left {period} at {site}", count=2, period="this month", site="X") == (
        "2 left this month at X"
    )


@pytest.mark.django_db
def test_policy_with_unknown_placeholder_is_not_saved_and_says_why():
    policy = MeterPolicy(copy_left_other="You have {numberArticlesLeft} articles")
    with pytest.raises(ValidationError) as refused:
        policy.full_clean()
    assert "copy_left_other" in refused.value.message_dict
    assert (
        "Unknown placeholder {numberArticlesLeft}"
        in refused.value.message_dict["copy_left_other"][0]
    )
    assert MeterPolicy.objects.count() == 0


@pytest.mark.django_db
def test_registration_wall_needs_a_larger_registered_allowance():
    with pytest.raises(ValidationError) as refused:
        save_policy(registration_wall=True, anonymous_allowance=3, registered_allowance=3)
    assert "registered_allowance" in refused.value.message_dict
    assert save_policy(registration_wall=True, registered_allowance=5).registered_allowance == 5


def test_defaults_are_the_safe_ones():
    policy = MeterPolicy()
    assert (policy.period_kind, policy.anonymous_allowance, policy.registered_allowance) == (
        "calendar_month",
        3,
        3,
    )
    assert (policy.registration_wall, policy.preview_blocks, policy.fail_mode) == (False, 2, "open")
    assert policy.crawlers_read_in_full is False
