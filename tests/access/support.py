"""Readers and entitlements for the access tests (entitlements are monkeypatched)."""

from __future__ import annotations

from datetime import UTC, datetime

from masthead.metering.identity import ReaderIdentity
from masthead.metering.machines import MachineKind
from masthead.subscriptions.entitlements import NO_ENTITLEMENT, Entitlement, Lapse

TRIALIST = Entitlement(reads_everything=True, status="trialing", plan_name="Monthly")
SUBSCRIBER = Entitlement(reads_everything=True, status="active", plan_name="Monthly")
LAPSED_TRIAL = Entitlement(status="expired", lapsed=Lapse.TRIAL)
LAPSED_SUBSCRIPTION = Entitlement(status="expired", lapsed=Lapse.SUBSCRIPTION)
PAST_DUE = Entitlement(reads_everything=True, status="past_due", plan_name="Monthly")
PAUSED_UNTIL = datetime(2026, 11, 15, 12, 0, tzinfo=UTC)
PAUSED = Entitlement(status="paused", plan_name="Monthly", paused_until=PAUSED_UNTIL)

# user ids 101.. stand for accounts in each state.
ENTITLEMENTS = {
    101: NO_ENTITLEMENT,
    102: TRIALIST,
    103: SUBSCRIBER,
    104: LAPSED_TRIAL,
    105: LAPSED_SUBSCRIPTION,
    107: PAST_DUE,
    108: PAUSED,
}

PRINCIPALS = {
    "anonymous": ReaderIdentity(user_id=None, anonymous_id="a" * 32, fresh=True),
    "registered": ReaderIdentity(user_id=101, anonymous_id=None),
    "trialist": ReaderIdentity(user_id=102, anonymous_id=None),
    "subscriber": ReaderIdentity(user_id=103, anonymous_id=None),
    "lapsed trialist": ReaderIdentity(user_id=104, anonymous_id=None),
    "lapsed subscriber": ReaderIdentity(user_id=105, anonymous_id=None),
    "past due": ReaderIdentity(user_id=107, anonymous_id=None),
    "paused": ReaderIdentity(user_id=108, anonymous_id=None),
    "staff": ReaderIdentity(user_id=106, anonymous_id=None, is_staff=True),
    "verified crawler": ReaderIdentity(
        user_id=None, anonymous_id="c" * 32, machine=MachineKind.VERIFIED_SEARCH, fresh=True
    ),
}


def fake_entitlement_for(user_id, *, now):
    return ENTITLEMENTS.get(user_id, NO_ENTITLEMENT)


def install_entitlements(monkeypatch) -> None:
    monkeypatch.setattr("masthead.access.decision.entitlement_for", fake_entitlement_for)
