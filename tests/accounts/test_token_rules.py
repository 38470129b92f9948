"""Property: a token works exactly while it was neither revoked nor followed by a
"log out everywhere" of its own reader, whatever happens to other readers."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from masthead.accounts.actions import (
    issue_app_token,
    live_token,
    live_tokens_of,
    log_out_everywhere,
    revoke_app_token,
)
from masthead.accounts.models import AccountEvent
from masthead.core import clock
from tests import factories

pytestmark = pytest.mark.django_db

step = st.one_of(
    st.tuples(st.just("issue"), st.sampled_from(["reader", "bystander"])),
    st.tuples(st.just("revoke"), st.integers(min_value=0, max_value=20)),
    st.tuples(st.just("everywhere"), st.sampled_from(["reader", "bystander"])),
)


def test_a_token_lives_until_revoked_or_logged_out_everywhere():
    people = {"reader": factories.user(), "bystander": factories.user()}

    @settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(steps=st.lists(step, max_size=12))
    def run(steps):
        first_event = AccountEvent.objects.order_by("-pk").values_list("pk", flat=True).first()
        issued: list[tuple[str, object, str]] = []  # (owner, token, raw)
        expected_live: set[str] = set()
        revocations = 0
        for action, arg in steps:
            now = clock.now()
            if action == "issue":
                token, raw = issue_app_token(people[arg], name=f"{arg} app", now=now)
                issued.append((arg, token, raw))
                expected_live.add(raw)
            elif action == "revoke" and issued:
                _, token, raw = issued[arg % len(issued)]
                changed = revoke_app_token(token, now=now)
                assert changed == (raw in expected_live)
                revocations += changed
                expected_live.discard(raw)
            elif action == "everywhere":
                log_out_everywhere(people[arg], now=now)
                expected_live -= {raw for owner, _, raw in issued if owner == arg}

            for owner, _, raw in issued:
                found = live_token(raw, now=now)
                assert (found is not None) == (raw in expected_live)
                if found is not None:
                    assert found.user == people[owner]
            for name, person in people.items():
                live = {token.pk for token in live_tokens_of(person)}
                assert live == {t.pk for o, t, r in issued if o == name and r in expected_live}

        # Every issue and every effective revoke left exactly one history row.
        events = AccountEvent.objects.filter(pk__gt=first_event or 0)
        assert events.filter(kind="token_issued").count() == len(issued)
        assert events.filter(kind="token_revoked").count() == revocations
        # The next example starts with no live token.
        for person in people.values():
            log_out_everywhere(person, now=clock.now())

    run()
