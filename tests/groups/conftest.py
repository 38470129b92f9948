import pytest

from masthead.groups import passes
from tests.audit.test_paywall_audit import newsroom  # noqa: F401
from tests.metering.support import fresh_caches  # noqa: F401
from tests.newsroom.test_narrow_path import apps  # noqa: F401


@pytest.fixture(autouse=True)
def fresh_network_table():
    passes.forget()
    yield
    passes.forget()
