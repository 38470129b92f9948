"""How allauth behaves for Masthead's readers."""

from __future__ import annotations

from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from django.http import HttpRequest

# The header's "Your account" / "Sign in" links already say whether the reader is signed in;
# a flash message would wait in the session and surprise them on a later account page.
_SILENT_MESSAGES = {"account/messages/logged_in.txt", "account/messages/logged_out.txt"}


class ReaderAccountAdapter(DefaultAccountAdapter):
    def add_message(
        self,
        request: HttpRequest,
        level: int,
        message_template: str | None = None,
        message_context: dict[str, Any] | None = None,
        extra_tags: str = "",
        message: str | None = None,
    ) -> None:
        if message_template in _SILENT_MESSAGES:
            return
        super().add_message(request, level, message_template, message_context, extra_tags, message)
