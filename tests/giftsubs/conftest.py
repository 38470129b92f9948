from tests.metering.support import fresh_caches  # noqa: F401
