"""Several requests at once: a reader's token limit holds, and a day's fetches are all counted.
Threads need real transactions and row locks, so this runs on PostgreSQL."""

from __future__ import annotations

import pytest
from django.conf import settings

from masthead.accounts import actions, personal
from masthead.accounts.models import PersonalToken, PersonalTokenUse
from masthead.core import clock
from tests import factories
from tests.concurrency import in_parallel

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not settings.USING_POSTGRES, reason="row locks need PostgreSQL"),
]


def test_six_tabs_creating_at_once_make_no_more_than_the_limit(settings):
    settings.PERSONAL_TOKEN_LIMIT = 2
    user = factories.user()

    def create(index: int):
        return actions.issue_personal_token(
            user, name=f"Tab {index}", scopes=["feed"], now=clock.now()
        )

    results = in_parallel(6, create)
    refused = [r for r in results if isinstance(r, actions.PersonalTokenRefused)]
    assert len(refused) == 4, results
    assert PersonalToken.objects.filter(user=user).count() == 2


def test_eight_fetches_at_once_are_counted_eight_times(settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "personal_token": "off"}
    token, raw = actions.issue_personal_token(
        factories.user(), name="Reader", scopes=["feed"], now=clock.now()
    )
    results = in_parallel(
        8, lambda _: personal.admit(raw, scope="feed", address="198.51.100.7", now=clock.now())
    )
    assert [r.refusal for r in results] == [None] * 8, results
    assert PersonalTokenUse.objects.get(token=token).fetches == 8
