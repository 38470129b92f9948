"""Experiment actions (validation, one running per kind, stop, winner applied once, history)
and the dashboard: exact counts per variant on a scripted population, the verdict, CSV, and
the permission matrix."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.core.exceptions import ValidationError

from masthead.core import clock
from masthead.experiments import actions, running
from masthead.experiments.models import Action, Experiment, Kind, State
from masthead.insights import splits
from masthead.insights.models import Conversion, ReaderAlias, ReaderDay, Step
from masthead.metering.models import MeterPolicy
from tests import factories
from tests.metering.support import fresh_caches, save_policy  # noqa: F401

pytestmark = pytest.mark.django_db
TWO = [actions.VariantSpec("Control", 50), actions.VariantSpec("Four", 50, preview_blocks=4)]


def make(name="Preview", kind=Kind.PREVIEW, specs=None, **kw):
    return actions.create_experiment(name, kind, specs or TWO, now=clock.now(), **kw)


@pytest.mark.parametrize(
    ("specs", "message"),
    [
        ([actions.VariantSpec("Only", 100)], "from 2 to 10 variants (this one has 1)"),
        (
            [actions.VariantSpec(f"V{n}", 9, preview_blocks=n) for n in range(11)],
            "from 2 to 10 variants (this one has 11)",
        ),
        (
            [actions.VariantSpec("A", 50), actions.VariantSpec("B", 40, preview_blocks=3)],
            "add up to 100% (they add up to 90%)",
        ),
        (
            [actions.VariantSpec("A", 100), actions.VariantSpec("B", 0, preview_blocks=3)],
            "at least 1%",
        ),
        (
            [actions.VariantSpec("A", 50), actions.VariantSpec("A", 50, preview_blocks=3)],
            "a name of its own",
        ),
        (
            [actions.VariantSpec("A", 50), actions.VariantSpec("B", 50)],
            "sets a preview length",
        ),
    ],
)
def test_a_split_that_cannot_run_is_refused_with_a_reason(specs, message):
    with pytest.raises(ValidationError) as refused:
        make(specs=specs)
    assert message in " ".join(refused.value.messages)
    assert Experiment.objects.count() == 0


def test_unknown_offer_codes_are_refused():
    specs = [actions.VariantSpec("A", 50), actions.VariantSpec("B", 50, offer_codes=["nope"])]
    with pytest.raises(ValidationError, match="No offer has the code nope"):
        make(kind=Kind.OFFERS, specs=specs, known_offers=frozenset({"intro"}))


def test_one_experiment_of_a_kind_runs_at_a_time():
    first, second = make("First"), make("Second")
    actions.start(first, now=clock.now())
    with pytest.raises(ValidationError, match="Another preview length experiment is running"):
        actions.start(second, now=clock.now())
    assert Experiment.objects.get(pk=second.pk).state == State.DRAFT
    actions.stop(first, now=clock.now())
    actions.start(second, now=clock.now())  # now it may
    with pytest.raises(ValidationError, match="Only a draft experiment can start"):
        actions.start(first, now=clock.now())


def test_the_winner_is_applied_once_and_becomes_the_policy():
    save_policy(preview_blocks=2)
    staff = factories.user(staff=True)
    experiment = make()
    actions.start(experiment, now=clock.now(), actor=staff)
    four = experiment.variants.get(name="Four")
    with pytest.raises(ValidationError, match="Stop the experiment before applying a winner"):
        actions.apply_winner(experiment, four, now=clock.now(), actor=staff)
    actions.stop(experiment, now=clock.now(), actor=staff)
    actions.apply_winner(experiment, four, now=clock.now(), actor=staff)
    assert MeterPolicy.objects.get().preview_blocks == 4
    with pytest.raises(ValidationError, match="already applied"):
        actions.apply_winner(experiment, four, now=clock.now(), actor=staff)
    assert list(experiment.changes.values_list("action", "actor", "detail")) == [
        (Action.CREATED, None, "2 variants"),
        (Action.STARTED, staff.pk, ""),
        (Action.STOPPED, staff.pk, ""),
        (Action.WINNER_APPLIED, staff.pk, "Four: 4 preview blocks"),
    ]


def test_an_offers_winner_orders_every_readers_paywall():
    from masthead.subscriptions.models import Offer, Plan

    plan = Plan.objects.create(slug="m", name="Monthly", price_minor=1500)
    for code in ("a", "b", "c"):
        Offer.objects.create(code=code, plan=plan, intro_price_minor=99)
    specs = [
        actions.VariantSpec("All", 50),
        actions.VariantSpec("C, A", 50, offer_codes=["c", "a"]),
    ]
    experiment = make("Offers", Kind.OFFERS, specs)
    actions.start(experiment, now=clock.now())
    actions.stop(experiment, now=clock.now())
    running.forget()
    assert running.offer_codes_for("u:1") is None  # stopped, nothing applied: as listed
    actions.apply_winner(experiment, experiment.variants.get(name="C, A"), now=clock.now())
    assert running.offer_codes_for("u:1") == ("c", "a")
    assert running.offer_codes_for(None) == ("c", "a")
    assert MeterPolicy.objects.count() == 0  # an offers winner writes no policy


# -- the figures --------------------------------------------------------------------------


def keys_by_arm(experiment, prefix: str, count: int) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {v.name: [] for v in experiment.variants.all()}
    n = 0
    while any(len(keys) < count for keys in found.values()):
        key = f"{prefix}{n}"
        arm = running.Running(
            experiment.pk,
            experiment.kind,
            experiment.salt,
            tuple(running.arm_of(v) for v in experiment.variants.all()),
        ).arm_for(key)
        if len(found[arm.name]) < count:
            found[arm.name].append(key)
        n += 1
    return found


@pytest.fixture
def scripted():
    """40 control and 40 "Four" readers met the meter while the test ran; 4 and 12 of them
    converted (one of the "Four" converters signed up first: counted once, under the key they
    were exposed with). Readers outside the experiment's days, and a conversion after it
    stopped, count for nothing."""
    now = clock.now()
    experiment = make()
    experiment = actions.start(experiment, now=now - timedelta(days=10))
    running.forget()
    keys = keys_by_arm(experiment, "a:r", 41)
    today = now.date()
    for arm_keys in keys.values():
        for key in arm_keys[:40]:
            ReaderDay.objects.create(
                day=today - timedelta(days=3), reader=key, steps=Step.MET_METER
            )
    ReaderDay.objects.create(day=today - timedelta(days=30), reader=keys["Control"][40], steps=2)
    ReaderDay.objects.create(day=today - timedelta(days=2), reader="a:free", steps=Step.VISITED)

    def converted(reader: str, at, kind="first_payment") -> None:
        Conversion.objects.create(event_id=f"{reader}-{kind}", kind=kind, reader=reader, at=at)

    for key in keys["Control"][:4]:
        converted(key, now - timedelta(days=2))
    for key in keys["Four"][:11]:
        converted(key, now - timedelta(days=2), kind="trial_started")
    # A "Four" reader who signed up (u:900), was exposed again signed in, then paid.
    ReaderAlias.objects.create(anonymous=keys["Four"][11], account="u:900")
    ReaderDay.objects.create(day=today - timedelta(days=1), reader="u:900", steps=Step.PAYWALL)
    converted("u:900", now - timedelta(days=1))
    converted(keys["Control"][5], now + timedelta(days=1))  # after the result's "now"
    return experiment


def test_counts_per_variant_are_exact(scripted):
    found = splits.result(scripted)
    assert [(a.variant.name, a.exposed, a.converted) for a in found.arms] == [
        ("Control", 40, 4),
        ("Four", 40, 12),
    ]
    (comparison,) = found.comparisons
    assert comparison.difference == pytest.approx(0.2)
    low, high = comparison.interval
    expected = splits.newcombe((12, 40), (4, 40))
    assert (low, high) == expected
    assert comparison.significant is (low > 0)


def test_the_verdict_says_not_yet_significant_on_a_small_difference(scripted):
    trials = Conversion.objects.filter(kind="trial_started").order_by("pk")
    Conversion.objects.filter(pk__in=list(trials.values_list("pk", flat=True)[:7])).delete()
    found = splits.result(scripted)
    assert [(a.exposed, a.converted) for a in found.arms] == [(40, 4), (40, 5)]
    assert [c.verdict for c in found.comparisons] == ["not yet significant"]
    assert not found.any_significant


def viewer(*, view: bool, change: bool = False):
    user = factories.user(staff=False)
    user.user_permissions.add(Permission.objects.get(codename="access_admin"))
    if view:
        user.user_permissions.add(Permission.objects.get(codename="view_insights"))
    if change:
        user.user_permissions.add(Permission.objects.get(codename="change_experiment"))
    return user


def test_the_dashboard_shows_the_figures_and_exports_them(client, scripted):
    client.force_login(viewer(view=True))
    page = client.get(f"/admin/insights/experiments/{scripted.pk}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Conversion rate by variant, with 95% intervals" in html
    assert "<td>10.00%</td>" in html and "<td>30.00%</td>" in html
    assert "Start the experiment" not in html and "Stop the experiment" not in html
    export = client.get(f"/admin/insights/experiments/{scripted.pk}/?csv=variants")
    lines = export.content.decode().splitlines()
    assert lines[0].startswith("variant,value,share,converted,exposed readers,conversion rate")
    assert lines[1].startswith("Control,as the policy,50%,4,40,10.00%,")
    assert lines[2].startswith("Four,4 preview blocks,50%,12,40,30.00%,")
    assert export["Cache-Control"].startswith("private")


@pytest.mark.parametrize(
    ("who", "list_status", "post_status"),
    [
        # Readers are not admin users: the admin sends them to its sign-in page.
        ("anonymous", 302, 302),
        ("registered", 302, 302),
        ("trialist", 302, 302),
        ("subscriber", 302, 302),
        ("lapsed", 302, 302),
        ("past due", 302, 302),
        ("admin user without the permission", 403, 403),
        ("admin user who may view", 200, 403),
        ("admin user who may change", 200, 302),
        ("staff", 200, 302),  # a superuser
    ],
)
def test_the_permission_matrix(client, who, list_status, post_status):
    from tests.gifts.support import readers

    experiment = make()
    users = readers(clock.now()) | {
        "admin user without the permission": viewer(view=False),
        "admin user who may view": viewer(view=True),
        "admin user who may change": viewer(view=True, change=True),
    }
    if users[who] is not None:
        client.force_login(users[who])
    assert client.get("/admin/insights/experiments/").status_code == list_status
    assert client.get(f"/admin/insights/experiments/{experiment.pk}/").status_code == list_status
    response = client.post(f"/admin/insights/experiments/{experiment.pk}/start/")
    assert response.status_code == post_status
    started = Experiment.objects.get(pk=experiment.pk).state == State.RUNNING
    assert started is (who in ("admin user who may change", "staff"))


def test_a_refused_change_is_said_on_the_page(client):
    first, second = make("First"), make("Second")
    actions.start(first, now=clock.now())
    client.force_login(viewer(view=True, change=True))
    response = client.post(f"/admin/insights/experiments/{second.pk}/start/", follow=True)
    assert response.status_code == 200
    assert (
        "Another preview length experiment is running: stop it first." in response.content.decode()
    )
    assert client.post(f"/admin/insights/experiments/{second.pk}/explode/").status_code == 302
    assert client.get("/admin/insights/experiments/99999/").status_code == 404


def test_staff_create_an_experiment_from_the_form_and_bad_lines_are_named(client):
    client.force_login(viewer(view=True, change=True))
    bad = client.post(
        "/admin/insights/experiments/",
        {"name": "Allowance", "kind": "allowance", "variants": "Control | 50 |\nMore | fifty | 5"},
    )
    assert bad.status_code == 400
    assert "Line 2: the share is a whole number of percent." in bad.content.decode()
    assert "Control | 50 |" in bad.content.decode()  # what was typed is kept
    good = client.post(
        "/admin/insights/experiments/",
        {"name": "Allowance", "kind": "allowance", "variants": "Control | 50 |\nMore | 50 | 3/6"},
    )
    experiment = Experiment.objects.get(name="Allowance")
    assert good.status_code == 302 and good["Location"].endswith(f"/{experiment.pk}/")
    more = experiment.variants.get(name="More")
    assert (more.anonymous_allowance, more.registered_allowance, more.weight) == (3, 6, 50)
