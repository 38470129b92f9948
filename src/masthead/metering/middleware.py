"""Attach the reader's identity to every request (`request.reader`) and issue the reader
cookie when, and only when, an anonymous reader met the meter."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from masthead.core import clientip, clock
from masthead.metering import crawlers, machines
from masthead.metering.actions import settle_pending_read
from masthead.metering.identity import (
    ReaderIdentity,
    cookie_from,
    issue_cookie_if_needed,
    new_anonymous_id,
    reads_as_staff,
)
from masthead.metering.policy import current_policy

__all__ = ["ReaderIdentity", "ReaderIdentityMiddleware"]


def identify(request: HttpRequest) -> ReaderIdentity:
    user = request.user
    anonymous_id, pending = cookie_from(request)
    if user.is_authenticated:
        return ReaderIdentity(
            user_id=user.pk,
            anonymous_id=anonymous_id,
            is_staff=reads_as_staff(user),
            pending=pending,
        )
    user_agent = request.META.get("HTTP_USER_AGENT", "")
    # The DNS check only for a claim of a verifiable crawler, and only when the policy lets
    # search engines in (otherwise verified or not, the crawler gets the preview).
    verify = crawlers.claimed_crawler(user_agent) is not None and current_policy().allow_search
    # The client's address through trusted proxies only (a forwarded claim proves nothing).
    address = clientip.client_ip(request) if verify else ""
    machine = machines.classify(user_agent, request.META, address=address, verify=verify)
    return ReaderIdentity(
        user_id=None,
        anonymous_id=anonymous_id or new_anonymous_id(),
        machine=machine,
        fresh=anonymous_id is None,
        pending=pending,
    )


class ReaderIdentityMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        reader = identify(request)
        if reader.pending:  # the cookie came back: its first read moves into the store
            settle_pending_read(reader, now=clock.now())
        request.reader = reader  # type: ignore[attr-defined]
        response = self.get_response(request)
        issue_cookie_if_needed(request, response)
        return response
