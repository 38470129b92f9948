# ruff: noqa: RUF001  (Russian copy is meant to be Cyrillic)
"""Message copy and plural forms, in English and Russian (three plural forms)."""

import pytest
from django.utils import translation

from masthead.access import messages
from masthead.metering.models import MeterPolicy, PeriodKind

MONTHLY = MeterPolicy()
ROLLING = MeterPolicy(period_kind=PeriodKind.ROLLING_DAYS, rolling_days=30)


@pytest.mark.parametrize(
    ("left", "expected"),
    [
        (3, "You have 3 free articles left this month"),
        (2, "You have 2 free articles left this month"),
        (1, "You have 1 free article left this month"),
        (0, "You have 0 free articles left this month"),
    ],
)
def test_english_meter_copy(left, expected):
    with translation.override("en"):
        assert messages.articles_left(MONTHLY, left) == expected


def test_english_last_and_rolling_copy():
    with translation.override("en"):
        assert messages.last_free_article(MONTHLY) == "This is your last free article this month"
        assert messages.articles_left(ROLLING, 2) == (
            "You have 2 free articles left in the next 30 days"
        )


@pytest.mark.parametrize(
    ("left", "expected"),
    [
        (1, "У вас осталась 1 бесплатная статья в этом месяце"),
        (21, "У вас осталась 21 бесплатная статья в этом месяце"),
        (2, "У вас осталось 2 бесплатные статьи в этом месяце"),
        (3, "У вас осталось 3 бесплатные статьи в этом месяце"),
        (24, "У вас осталось 24 бесплатные статьи в этом месяце"),
        (0, "У вас осталось 0 бесплатных статей в этом месяце"),
        (5, "У вас осталось 5 бесплатных статей в этом месяце"),
        (11, "У вас осталось 11 бесплатных статей в этом месяце"),
        (12, "У вас осталось 12 бесплатных статей в этом месяце"),
    ],
)
def test_russian_uses_its_three_plural_forms(left, expected):
    with translation.override("ru"):
        assert messages.articles_left(MONTHLY, left) == expected


def test_russian_period_and_other_messages(settings):
    with translation.override("ru"):
        assert messages.articles_left(ROLLING, 5) == (
            "У вас осталось 5 бесплатных статей в ближайшие 30 дней"
        )
        assert messages.last_free_article(MONTHLY) == (
            "Это ваша последняя бесплатная статья в этом месяце"
        )
        assert messages.meter_spent(MONTHLY, 3) == (
            "Вы прочитали все 3 бесплатные статьи в этом месяце"
        )
        assert messages.trial_lapsed() == "Ваш пробный период закончился"
        assert messages.subscription_lapsed() == (
            f"Ваш полный доступ к {settings.SITE_NAME} закончился"
        )


def test_staff_copy_replaces_the_built_in_copy_and_fills_placeholders(settings):
    policy = MeterPolicy(
        copy_left_one="Only {count} story left {period} at {site}",
        copy_left_other="{count} stories left {period}",
        copy_last="Last one {period}!",
    )
    assert (
        messages.articles_left(policy, 1) == f"Only 1 story left this month at {settings.SITE_NAME}"
    )
    assert messages.articles_left(policy, 4) == "4 stories left this month"
    assert messages.last_free_article(policy) == "Last one this month!"


def test_no_message_holds_a_raw_placeholder():
    policy = MeterPolicy(registration_wall=True, registered_allowance=5)
    for language in ("en", "ru"):
        with translation.override(language):
            texts = [
                *(messages.articles_left(policy, n) for n in range(0, 30)),
                messages.last_free_article(policy),
                messages.meter_spent(policy, 3),
                messages.registration_wall(policy, 2),
                messages.subscribers_only(policy),
                messages.meter_unavailable(),
            ]
        for text in texts:
            assert "{" not in text and "%(" not in text, text
