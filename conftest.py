"""Test settings shared by every test: isolated Redis key prefix, local-only browser."""

from __future__ import annotations

import os
import uuid

# Each test run gets its own Redis key prefix so runs (and helpers) never see each other's keys.
os.environ.setdefault("MASTHEAD_REDIS_PREFIX", f"mhtest-{uuid.uuid4().hex[:8]}")
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
