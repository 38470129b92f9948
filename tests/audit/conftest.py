from tests.metering.support import fresh_caches, store  # noqa: F401
