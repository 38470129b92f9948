"""The paywall audit reads a running preview split test per reader: each persona is held to
its own arm's cut, so a door that ignores the arm (and shows the policy's longer preview to a
reader in the short arm) is a leak."""

from __future__ import annotations

from datetime import timedelta

import pytest

from masthead.access import doors
from masthead.access.decision import Decision, Level
from masthead.core import clock
from masthead.experiments import actions, running
from masthead.experiments.models import Kind
from masthead.metering.policy import current_policy
from tests.audit.test_paywall_audit import failing, newsroom  # noqa: F401

pytestmark = pytest.mark.django_db(transaction=True)

# Gated personas whose arm the test cannot choose (accounts and cookies made by the audit).
GATED = ["exhausted registered", "lapsed subscriber", "lapsed trialist", "exhausted anonymous"]


@pytest.fixture
def short_preview_test():
    """Nearly every reader is in a one-block arm; the policy's preview is longer."""
    assert current_policy().preview_blocks > 1
    now = clock.now()
    experiment = actions.create_experiment(
        "Shorter preview",
        Kind.PREVIEW,
        [actions.VariantSpec("Policy", 1), actions.VariantSpec("One", 99, preview_blocks=1)],
        now=now - timedelta(minutes=2),
    )
    actions.start(experiment, now=now - timedelta(minutes=1))
    running.forget()
    return experiment


def ignoring_the_arm(article, decision: Decision):
    """A planted bug: the preview cut from the policy, not from the reader's arm."""
    if decision.level is Level.PREVIEW:
        decision = Decision(
            Level.PREVIEW, decision.reason, preview_blocks=current_policy().preview_blocks
        )
    return doors.visible_blocks(article, decision)


def test_a_door_that_ignores_the_readers_arm_fails_the_audit(
    live_server,
    newsroom,  # noqa: F811
    short_preview_test,
    monkeypatch,
    capsys,
):
    monkeypatch.setattr("masthead.newsroom.article_view.visible_blocks", ignoring_the_arm)
    leaks = failing(live_server, capsys, personas=GATED)
    page_leaks = [line for line in leaks if line.startswith("LEAK article page as ")]
    assert page_leaks, leaks
    # What leaked is the second lead paragraph: inside the policy's preview, past the arm's.
    assert any("continues with a seco" in line for line in page_leaks), leaks


def test_the_audit_passes_when_every_door_follows_the_arm(
    live_server,
    newsroom,  # noqa: F811
    short_preview_test,
    capsys,
):
    from django.core.management import call_command

    chosen = [arg for name in GATED for arg in ("--persona", name)]
    call_command("paywall_audit", "--base-url", live_server.url, *chosen)
    out = capsys.readouterr().out
    assert "LEAK" not in out and "BLIND" not in out, out
