"""Stamp each new session with the reader's current sign-in epoch."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.http import HttpRequest

from masthead.accounts.actions import current_session_epoch
from masthead.accounts.middleware import SESSION_EPOCH_KEY


@receiver(user_logged_in, dispatch_uid="masthead.accounts.stamp_session_epoch")
def stamp_session_epoch(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    if request is not None and hasattr(request, "session"):
        request.session[SESSION_EPOCH_KEY] = current_session_epoch(user.pk)
