"""Suite-wide: background tasks run as they are enqueued (the immediate backend), so a test
sees the e-mail an action queued once its transaction commits. The queue's own tests
(tests/core/test_queue*.py) switch to the database and Redis backends explicitly."""

from __future__ import annotations

from typing import Any

import pytest

IMMEDIATE = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


@pytest.fixture(autouse=True)
def tasks_run_immediately(settings: Any) -> None:
    settings.TASKS = IMMEDIATE
