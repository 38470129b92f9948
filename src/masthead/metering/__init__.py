"""Masthead metering: reader identity, meter policy, counters (database and Redis)."""
