"""On Redis a metered read costs one round trip for every reader: the atomic record decides."""

import pytest
from django.test import RequestFactory

from masthead.access import doors
from masthead.access.decision import Level, Reason
from masthead.metering.identity import ReaderIdentity
from masthead.metering.models import MeteredRead
from masthead.metering.stores import RedisMeterStore
from tests import factories
from tests.metering.support import save_policy

pytestmark = pytest.mark.django_db

RETURNING = ReaderIdentity(user_id=None, anonymous_id="c" * 32)


def read(article, reader: ReaderIdentity = RETURNING):
    request = RequestFactory().get(article.url)
    request.reader = reader
    decision = doors.open_article(request, article)
    return decision.level, decision.reason, decision.left


def test_a_returning_reader_gets_the_same_answers_from_either_store(store, monkeypatch):
    save_policy(anonymous_allowance=2, registration_wall=False)
    first, second, third = (factories.article(f"Story {n}") for n in range(3))
    free = factories.article("Notice", access_level="free")
    if isinstance(store, RedisMeterStore):
        # The look before the record is skipped: only the one atomic script runs.
        monkeypatch.setattr(store, "state", pytest.fail)
    answers = [read(first), read(first), read(free), read(second), read(first), read(third)]
    assert answers == [
        (Level.FULL, Reason.METERED, 1),
        (Level.FULL, Reason.METERED, 1),
        (Level.FULL, Reason.FREE_ARTICLE, None),
        (Level.FULL, Reason.LAST_FREE_ARTICLE, 0),
        (Level.FULL, Reason.METERED, 0),
        (Level.PREVIEW, Reason.METER_EXHAUSTED, None),
    ]
    if not isinstance(store, RedisMeterStore):
        assert MeteredRead.objects.filter(reader_key=RETURNING.meter_key).count() == 2
