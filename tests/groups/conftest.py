import pytest

from masthead.groups import passes
from tests.metering.support import fresh_caches  # noqa: F401


@pytest.fixture(autouse=True)
def fresh_network_table():
    passes.forget()
    yield
    passes.forget()
