"""How allauth behaves for Masthead's readers."""

from __future__ import annotations

from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from django.conf import settings
from django.http import HttpRequest

from masthead.core.links import on_site

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

    def format_email_subject(self, subject: str) -> str:
        """No "[host:port]" prefix: the subject names the site where it needs to."""
        return " ".join(subject.split())

    def get_email_confirmation_url(self, request: HttpRequest, emailconfirmation: Any) -> str:
        return on_site(super().get_email_confirmation_url(request, emailconfirmation))

    def get_reset_password_from_key_url(self, key: str) -> str:
        return on_site(super().get_reset_password_from_key_url(key))

    def send_mail(self, template_prefix: str, email: str, context: dict[str, Any]) -> None:
        """allauth's e-mails name the site and link to SITE_URL, never the request's host."""
        site = {"SITE_NAME": settings.SITE_NAME, "SITE_URL": settings.SITE_URL}
        super().send_mail(template_prefix, email, {**context, **site})
