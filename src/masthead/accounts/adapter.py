"""How allauth behaves for Masthead's readers."""

from __future__ import annotations

from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from allauth.core import context as allauth_context
from django.conf import settings
from django.contrib.sites.shortcuts import get_current_site
from django.http import HttpRequest

from masthead.core.links import on_site
from masthead.core.mail import queue_message

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
        """Account e-mails (confirmation, codes, password reset) go through the outbox, so a
        failed send is retried by the queue instead of failing the reader's request. They name
        the site and link to SITE_URL, never the request's host."""
        request = allauth_context.request
        ctx = {"request": request, "email": email, "current_site": get_current_site(request)}
        ctx.update(context)
        ctx.update({"SITE_NAME": settings.SITE_NAME, "SITE_URL": settings.SITE_URL})
        message = self.render_mail(template_prefix, email, ctx)
        kind = f"account.{template_prefix.rsplit('/', 1)[-1]}"
        queue_message(message, kind=kind, enqueue_on_commit=False)
