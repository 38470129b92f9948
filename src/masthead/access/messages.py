"""The one message a reader sees, rendered once on the server.

Built-in copy goes through Django's i18n (ngettext, so Russian gets its three plural forms);
staff may replace it in the meter policy, with placeholders validated when saved.
"""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.utils import dateformat, timezone
from django.utils.translation import gettext, ngettext

from masthead.metering.copy import fill
from masthead.metering.models import MeterPolicy
from masthead.metering.policy import period_phrase


def _custom(policy: MeterPolicy, text: str, count: int) -> str:
    return fill(text, count=count, period=period_phrase(policy), site=settings.SITE_NAME)


def _params(policy: MeterPolicy, count: int) -> dict[str, object]:
    return {"count": count, "period": period_phrase(policy)}


def articles_left(policy: MeterPolicy, left: int) -> str:
    custom = policy.copy_left_one if left == 1 else policy.copy_left_other
    if custom:
        return _custom(policy, custom, left)
    return ngettext(
        "You have %(count)d free article left %(period)s",
        "You have %(count)d free articles left %(period)s",
        left,
    ) % _params(policy, left)


def last_free_article(policy: MeterPolicy) -> str:
    if policy.copy_last:
        return _custom(policy, policy.copy_last, 0)
    return gettext("This is your last free article %(period)s") % _params(policy, 0)


def meter_spent(policy: MeterPolicy, allowance: int) -> str:
    if policy.copy_exhausted:
        return _custom(policy, policy.copy_exhausted, allowance)
    if allowance == 0:
        return subscribers_only(policy)
    return ngettext(
        "You have read your %(count)d free article %(period)s",
        "You have read all %(count)d free articles %(period)s",
        allowance,
    ) % _params(policy, allowance)


def registration_wall(policy: MeterPolicy, more: int) -> str:
    if policy.copy_registration_wall:
        return _custom(policy, policy.copy_registration_wall, more)
    return ngettext(
        "Register for free to read %(count)d more article %(period)s",
        "Register for free to read %(count)d more articles %(period)s",
        more,
    ) % _params(policy, more)


def subscribers_only(policy: MeterPolicy) -> str:
    if policy.copy_subscribers_only:
        return _custom(policy, policy.copy_subscribers_only, 0)
    return gettext("This article is for subscribers")


def read_on_the_site() -> str:
    """A door that cannot count a read (an app without a sign-in, a feed) offers the way in."""
    return gettext("Sign in or subscribe to read the whole article")


def trial_lapsed() -> str:
    return gettext("Your trial period has expired")


def subscription_lapsed() -> str:
    return gettext("Your full access to %(site)s has expired") % {"site": settings.SITE_NAME}


def paused(until: datetime | None) -> str:
    """A paused subscriber (docs/retention.md); the paywall adds the way to resume."""
    if until is None:
        return gettext("Your subscription is paused")
    day = dateformat.format(timezone.localtime(until), "F j, Y")
    return gettext("Your subscription is paused until %(day)s") % {"day": day}


def meter_unavailable() -> str:
    return gettext("We could not check your free articles just now. Please try again shortly.")


def after_last_free(policy: MeterPolicy, *, registered: bool) -> str:
    """What the last-free-article state says happens next."""
    if not registered and policy.registration_wall:
        more = policy.registered_allowance - policy.anonymous_allowance
        return ngettext(
            "After this one, register for free to read %(count)d more, or subscribe.",
            "After this one, register for free to read %(count)d more, or subscribe.",
            more,
        ) % {"count": more}
    return gettext("After this one, the rest of each story is for subscribers.")


def gift_from(giver_name: str) -> str:
    """The note on an article opened through a gift link."""
    if giver_name:
        return gettext("%(name)s gave you this article") % {"name": giver_name}
    return gettext("A subscriber gave you this article")


def gift_expired() -> str:
    return gettext("This gift link has expired, so the article is not a gift any more.")


def gift_revoked() -> str:
    return gettext("This gift link was withdrawn by the reader who gave it.")


def group_seat(group_name: str) -> str:
    """The note on an article read on a group seat."""
    return gettext("You are reading on your seat in %(group)s") % {"group": group_name}


def institution(name: str) -> str:
    """The note on an article read through an institution's access."""
    return gettext("Access provided by %(institution)s") % {"institution": name}


def automated() -> str:
    """What an automated client the machine policy does not grant is told (docs/machines.md)."""
    return gettext(
        "Automated access to the rest of this article is not included. The terms for machines "
        "are at /machine-access.json."
    )
