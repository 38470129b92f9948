"""Revenue figures: MRR and its movements on a scripted population moved through the real
subscription actions, trial conversion, revenue per thousand visitors from the ledger, and
conversions by article, section and author under both attribution rules; CSV exact."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from fractions import Fraction

import pytest
from django.contrib.auth.models import Permission

from masthead.billing.models import LedgerEntry
from masthead.billing.providers import TEST_CARD_FAILS_ON_RENEWAL
from masthead.core import events
from masthead.insights import figures
from masthead.insights.models import Touch
from masthead.subscriptions import actions
from masthead.subscriptions.models import Interval, Offer, OfferKind, Plan
from tests import factories
from tests.insights.support import drained, script
from tests.subscriptions.conftest import card

pytestmark = pytest.mark.django_db
URL = "/admin/insights/"
OCTOBER = figures.Period(date(2026, 10, 1), date(2026, 10, 31))
SEPTEMBER = figures.Period(date(2026, 9, 1), date(2026, 9, 30))


def on(day: int, month: int = 10) -> datetime:
    return datetime(2026, month, day, 16, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def embedded_buffer(settings):
    settings.INSIGHTS_REDIS_URL = ""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def viewer():
    user = factories.user(staff=False)
    for codename in ("access_admin", "view_insights"):
        user.user_permissions.add(Permission.objects.get(codename=codename))
    return user


@pytest.fixture
def plans():
    def plan(slug: str, price: int, interval: str = Interval.MONTH) -> Plan:
        return Plan.objects.create(
            name=slug.title(), slug=slug, price_minor=price, interval=interval, benefits="All"
        )

    monthly, yearly, premium = (
        plan("monthly", 1500),
        plan("yearly", 12000, "year"),
        plan("premium", 2500),
    )
    trial = Offer.objects.create(
        code="card-trial",
        plan=monthly,
        kind=OfferKind.TRIAL,
        trial_days=14,
        card_required=True,
    )
    free = Offer.objects.create(
        code="free-trial", plan=monthly, kind=OfferKind.TRIAL, trial_days=14
    )
    return monthly, yearly, premium, trial, free


@pytest.fixture
def population(plans):
    """3 monthly at $15 and 1 yearly at $120 from September (MRR $55.00 on 1 October); in
    October: A upgrades to $25 (expansion), B cancels and lapses (churn), E subscribes (new),
    F's card trial becomes paid (new), G's trial stays a trial (0), and I, who had lapsed in
    August, subscribes again (reactivation)."""
    monthly, yearly, premium, trial, free = plans
    readers = {name: factories.user(f"{name.lower()}@example.com") for name in "ABCDEFGI"}
    subs = {}
    for name in "ABC":
        reader = readers[name]
        subs[name] = actions.subscribe(reader, plan=monthly, card=card(reader), now=on(20, 9))
    subs["D"] = actions.subscribe(readers["D"], plan=yearly, card=card(readers["D"]), now=on(20, 9))
    old = actions.subscribe(readers["I"], plan=monthly, card=card(readers["I"]), now=on(1, 7))
    actions.cancel(old, now=on(10, 7))
    actions.expire(old, now=on(1, 8))

    preview = actions.preview_plan_change(subs["A"], premium, now=on(5))
    actions.change_plan(subs["A"], premium, now=on(5), expected=preview)
    actions.cancel(subs["B"], now=on(10), reason="too expensive")
    actions.expire(subs["B"], now=on(20))
    subs["E"] = actions.subscribe(readers["E"], plan=monthly, card=card(readers["E"]), now=on(12))
    subs["F"] = actions.start_trial(readers["F"], trial, card=card(readers["F"]), now=on(3))
    assert actions.renew(subs["F"], now=on(17))
    subs["G"] = actions.start_trial(readers["G"], free, now=on(4))
    subs["I"] = actions.subscribe(readers["I"], plan=monthly, card=card(readers["I"]), now=on(8))
    return subs


def test_mrr_at_the_start_is_three_monthly_and_one_yearly(population):
    (september,) = figures.mrr(SEPTEMBER)
    assert (september.currency, september.end_minor) == ("USD", 5500)
    (october,) = figures.mrr(OCTOBER)
    assert october.start_minor == 5500


def test_mrr_movements_are_exact(population):
    (october,) = figures.mrr(OCTOBER)
    assert [(m.name, m.amount_minor, m.subscribers) for m in october.movements] == [
        ("New", 3000, 2),  # E, and F out of its trial
        ("Expansion", 1000, 1),  # A: $15 -> $25
        ("Reactivation", 1500, 1),  # I, who had paid before
        ("Contraction", 0, 0),
        ("Churned", 1500, 1),  # B lapsed
    ]
    # 55 + 30 + 10 + 15 - 0 - 15 = 95: A 25, C 15, D 10, E 15, F 15, I 15.
    assert october.end_minor == 9500


def test_a_downgrade_is_contraction_and_a_cancelled_subscription_counts_until_it_lapses(plans):
    monthly, yearly, premium, *_ = plans
    reader = factories.user()
    sub = actions.subscribe(reader, plan=premium, card=card(reader), now=on(20, 9))
    actions.change_plan(sub, monthly, now=on(5))  # a downgrade waits for the period's end...
    sub.refresh_from_db()
    actions.renew(sub, now=sub.current_period_end)  # ...and applies at the renewal
    other = factories.user()
    running = actions.subscribe(other, plan=yearly, card=card(other), now=on(20, 9))
    actions.cancel(running, now=on(6))  # cancelled, still running until next September
    (october,) = figures.mrr(OCTOBER)
    assert (october.start_minor, october.end_minor) == (3500, 2500)
    assert [(m.name, m.amount_minor) for m in october.movements if m.amount_minor] == [
        ("Contraction", 1000)
    ]


def test_past_due_counts_until_it_lapses(plans):
    monthly, *_ = plans
    reader = factories.user()
    sub = actions.subscribe(
        reader, plan=monthly, card=card(reader, TEST_CARD_FAILS_ON_RENEWAL), now=on(20, 9)
    )
    assert not actions.renew(sub, now=on(20))
    sub.refresh_from_db()
    assert sub.status == "past_due"
    (october,) = figures.mrr(OCTOBER)
    assert (october.start_minor, october.end_minor) == (1500, 1500)
    actions.expire(sub, now=on(5, 11))
    (november,) = figures.mrr(figures.Period(date(2026, 11, 1), date(2026, 11, 30)))
    assert (november.start_minor, november.end_minor) == (1500, 0)
    assert november.movements[-1] == figures.MrrMovement("Churned", 1500, 1)


def test_a_trial_counts_nothing_and_a_yearly_plan_a_twelfth(plans):
    _, yearly, _, _, free = plans
    reader = factories.user()
    actions.start_trial(reader, free, now=on(2))
    payer = factories.user()
    actions.subscribe(payer, plan=yearly, card=card(payer), now=on(2))
    (october,) = figures.mrr(OCTOBER)
    assert october.end_minor == 1000
    assert october.movements[0] == figures.MrrMovement("New", 1000, 1)


def test_trial_conversion_counts_the_periods_trials_that_became_paid(population):
    assert figures.trial_conversion(OCTOBER) == figures.TrialConversion(started=2, paid=1)
    assert figures.trial_conversion(OCTOBER).rate == 0.5
    assert figures.trial_conversion(SEPTEMBER) == figures.TrialConversion(started=0, paid=0)


def test_revenue_per_thousand_visitors_is_the_ledgers_net_over_visitors(population):
    charged = list(
        LedgerEntry.objects.filter(at__gte=OCTOBER.since, at__lt=OCTOBER.until)
        .order_by("at", "pk")
        .values_list("amount_minor", flat=True)
    )
    # A's upgrade on the 5th: $25 for a new period, and a credit for the unused 15 of 30 days
    # of $15 (750); then I (8th), E (12th) and F's first month (17th) at $15.
    assert charged == [2500, -750, 1500, 1500, 1500]
    (row,) = figures.revenue_per_thousand(OCTOBER, visitors=8)
    assert row == figures.RevenuePerVisitors("USD", 6250, 8, 781250)
    assert figures.revenue_per_thousand(OCTOBER, visitors=0)[0].per_thousand_minor is None


def test_the_mrr_trials_and_revenue_csvs_are_exact(client, population):
    client.force_login(viewer())
    query = "?days=&start=2026-10-01&end=2026-10-31"
    assert client.get(URL + query + "&csv=mrr").content.decode() == (
        "what,currency,MRR,subscribers\n"
        "MRR at 2026-10-01 (start),USD,55.00,\n"
        "New,USD,+30.00,2\n"
        "Expansion,USD,+10.00,1\n"
        "Reactivation,USD,+15.00,1\n"
        "Contraction,USD,0.00,0\n"
        "Churned,USD,-15.00,1\n"
        "MRR at 2026-10-31 (end),USD,95.00,\n"
    )
    assert client.get(URL + query + "&csv=trials").content.decode() == (
        "trials started,became paid,trial conversion\n2,1,50.0%\n"
    )
    assert client.get(URL + query + "&csv=revenue_per_visitors").content.decode() == (
        "currency,net revenue (ledger),visitors,revenue per thousand visitors\nUSD,62.50,0,\n"
    )
    html = client.get(URL + query).content.decode()
    assert "MRR movements in USD, 2026-10-01 to 2026-10-31: from $55 to $95" in html
    assert "New $30, Expansion $10, Reactivation $15, Contraction $0, Churned $15" in html


# --- Attribution by article, section and author --------------------------------------------


@pytest.fixture
def reading():
    """Three articles in two sections; u:1 reads a, b, c (and a again) in the 30 days before
    paying $15; u:2 read a 40 days before and b just before signing up; u:3 converts having
    read nothing."""
    a = factories.article("Harbour", section_title="City", authors=["Ana Petrova", "Ben Ode"])
    b = factories.article("Council", section_title="City", authors=["Ben Ode"])
    c = factories.article("Storm", section_title="Weather", authors=["Cy Lee"])
    now = datetime.now(UTC)
    start = now - timedelta(days=45)
    script(start, {"a:two": [(events.METER_SHOWN, {"article": a.pk, "left": 2})]})
    late = now - timedelta(days=2)
    script(
        late,
        {
            "a:one": [
                (events.METER_SHOWN, {"article": a.pk, "left": 2}),
                (events.METER_SHOWN, {"article": b.pk, "left": 1}),
                (events.LAST_FREE, {"article": c.pk}),
                (events.PAYWALL_SHOWN, {"article": a.pk, "reason": "registration_wall"}),
            ],
            "u:1": [
                (events.SIGNED_UP, {"anon": "one"}),
                (events.FIRST_PAYMENT, {"amount_minor": 1500}),
            ],
            "a:two": [(events.ARTICLE_READ, {"article": b.pk})],
            "u:2": [(events.SIGNED_UP, {"anon": "two"})],
            "u:3": [(events.SIGNED_UP, {})],
        },
    )
    drained()
    return a, b, c


def rows(credits):
    return [(r.label, r.signed_up, r.trials, r.paid, r.revenue_minor) for r in credits]


def test_the_shared_rule_gives_each_of_n_articles_one_nth(reading):
    a, b, c = reading
    touches = sorted(
        (t.conversion.reader, t.conversion.kind, t.article_id, t.of) for t in Touch.objects.all()
    )
    assert touches == sorted(
        [
            ("u:1", "signed_up", a.pk, 3),
            ("u:1", "signed_up", b.pk, 3),
            ("u:1", "signed_up", c.pk, 3),
            ("u:1", "first_payment", a.pk, 3),
            ("u:1", "first_payment", b.pk, 3),
            ("u:1", "first_payment", c.pk, 3),
            ("u:2", "signed_up", b.pk, 1),  # a was read 45 days before: outside the window
        ]
    )
    period = figures.last_days(90)
    third = Fraction(1, 3)
    assert rows(figures.credits_by_article(period, figures.SHARED)) == [
        ("Council", 1 + third, 0, third, Fraction(500)),
        ("Harbour", third, 0, third, Fraction(500)),
        ("Storm", third, 0, third, Fraction(500)),
        ("(no article read)", 1, 0, 0, 0),
    ]
    assert rows(figures.credits_by_section(period, figures.SHARED)) == [
        ("City", 1 + 2 * third, 0, 2 * third, Fraction(1000)),
        ("Weather", third, 0, third, Fraction(500)),
        ("(no article read)", 1, 0, 0, 0),
    ]
    sixth = Fraction(1, 6)
    assert rows(figures.credits_by_author(period, figures.SHARED)) == [
        ("Ben Ode", 1 + third + sixth, 0, third + sixth, Fraction(750)),
        ("Cy Lee", third, 0, third, Fraction(500)),
        ("Ana Petrova", sixth, 0, sixth, Fraction(250)),
        ("(no article read)", 1, 0, 0, 0),
    ]


def test_the_last_article_rule_by_section_and_author(reading):
    period = figures.last_days(90)
    # u:1's last article before converting: a (the paywall); u:2's: b.
    assert rows(figures.credits_by_article(period, figures.LAST)) == [
        ("Harbour", 1, 0, 1, 1500),
        ("Council", 1, 0, 0, 0),
        ("(no article read)", 1, 0, 0, 0),
    ]
    assert rows(figures.credits_by_section(period)) == [
        ("City", 2, 0, 1, 1500),
        ("(no article read)", 1, 0, 0, 0),
    ]
    half = Fraction(1, 2)
    assert rows(figures.credits_by_author(period)) == [
        ("Ben Ode", 1 + half, 0, half, 750),
        ("Ana Petrova", half, 0, half, 750),
        ("(no article read)", 1, 0, 0, 0),
    ]


def test_the_dashboard_lets_staff_choose_the_rule_and_the_csv_follows(client, reading):
    client.force_login(viewer())
    shared = client.get(URL + "?days=90&rule=shared&csv=authors").content.decode()
    assert shared == (
        "author,sign-ups,trials,first payments,first-payment revenue\n"
        "Ben Ode,1.50,0,0.50,7.50\n"
        "Cy Lee,0.33,0,0.33,5.00\n"
        "Ana Petrova,0.17,0,0.17,2.50\n"
        "(no article read),1,0,0,0.00\n"
    )
    last = client.get(URL + "?days=90&csv=sections").content.decode()
    assert last == (
        "section,sign-ups,trials,first payments,first-payment revenue\n"
        "City,2,0,1,15.00\n"
        "(no article read),1,0,0,0.00\n"
    )
    html = client.get(URL + "?days=90&rule=shared").content.decode()
    assert "each of <em>n</em> articles gets 1/<em>n</em>" in html
    assert "rule=shared&amp;csv=articles" in html  # the CSV links carry the chosen rule
    # Wrong dates fall back to the default period, keeping the chosen rule.
    wrong = client.get(URL + "?days=&start=2026-01-10&end=2026-01-01&rule=shared")
    assert wrong.status_code == 200
    assert "Shared credit:" in wrong.content.decode()
    # An unknown rule falls back to the last article, keeping the period.
    response = client.get(URL + "?days=90&rule=nonsense&csv=sections")
    assert response.status_code == 200
    assert response.content.decode() == last


def test_a_free_trial_followed_by_a_subscription_counts_as_converted(plans):
    monthly, _, _, _, free = plans
    reader = factories.user()
    sub = actions.start_trial(reader, free, now=on(1))
    actions.advance(sub, now=on(16))  # ends without a card
    sub.refresh_from_db()
    assert sub.status == "expired"
    quitter = factories.user()
    actions.start_trial(quitter, free, now=on(2))
    assert figures.trial_conversion(OCTOBER) == figures.TrialConversion(started=2, paid=0)
    actions.subscribe(reader, plan=monthly, card=card(reader), now=on(18))
    assert figures.trial_conversion(OCTOBER) == figures.TrialConversion(started=2, paid=1)


def test_the_demo_history_gives_every_revenue_figure_something(settings):
    from masthead.insights import demo
    from masthead.subscriptions import demo as subscriptions_demo

    settings.PAYMENT_PROVIDER = "test"
    subscriptions_demo.load()
    assert demo.subscriber_history() == demo.SUBSCRIBERS
    assert demo.subscriber_history() == 0  # once
    period = figures.last_days(90)
    (usd,) = figures.mrr(period)
    moved = {m.name for m in usd.movements if m.amount_minor}
    # (the demo has no dearer plan to move up to: monthly to annual is a contraction)
    assert {"New", "Churned", "Contraction", "Reactivation"} <= moved, usd
    assert usd.end_minor > 0
    trials = figures.trial_conversion(period)
    assert trials.started > 0 and 0 < trials.paid < trials.started
    assert figures.revenue_per_thousand(period, visitors=1000)[0].revenue_minor > 0


def test_a_reader_who_comes_and_goes_within_the_period_is_new_and_churned(plans):
    monthly, *_ = plans
    reader = factories.user()
    sub = actions.subscribe(reader, plan=monthly, card=card(reader), now=on(2))
    actions.cancel(sub, now=on(9), immediately=True)
    (october,) = figures.mrr(OCTOBER)
    assert (october.start_minor, october.end_minor) == (0, 0)
    assert [(m.name, m.amount_minor, m.subscribers) for m in october.movements] == [
        ("New", 1500, 1),
        ("Expansion", 0, 0),
        ("Reactivation", 0, 0),
        ("Contraction", 0, 0),
        ("Churned", 1500, 1),
    ]
