"""The readers the audit reads as, and how it makes (and then removes) their credentials.

The audit runs beside the site with the same settings and database, so it signs readers in the
way the site would: a session made by Django's own `login()`, an app token made by
`accounts.actions.issue_app_token`, a reader cookie signed with the site's key. Readers in a
subscription state (trialist, subscriber, lapsed, past due, paused) are existing accounts found
in that state (`masthead demo` makes one of each): subscriptions and payments are append-only
history, so the audit does not make throwaway ones. Everything the audit creates (users, sessions,
tokens, meter rows) is removed by `Cast.close()`.
"""

from __future__ import annotations

import http.cookiejar
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import import_module
from typing import Any
from urllib.parse import urlparse

from django.conf import settings
from django.contrib.auth import get_user_model, login
from django.http import HttpRequest, HttpResponse

from masthead.accounts.actions import (
    issue_app_token,
    issue_personal_token,
    revoke_personal_token,
)
from masthead.accounts.models import AccountEvent, PersonalToken
from masthead.core import clock
from masthead.metering import machines
from masthead.metering.identity import (
    COOKIE_SALT,
    ReaderIdentity,
    anonymous_id_from,
    new_anonymous_id,
)
from masthead.metering.models import MeteredRead, ReaderMeter
from masthead.metering.stores import RedisMeterStore, get_store
from masthead.subscriptions.entitlements import Entitlement, Lapse, entitlement_for

GOOGLEBOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
# Machines (docs/machines.md): a script that says nothing of itself, a declared AI training
# crawler (a User-Agent claim, never verified).
SCRIPT = "python-requests/2.32.3"
GPTBOT = (
    "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko); compatible; GPTBot/1.2; "
    "+https://openai.com/gptbot"
)
AUDIT_AGENT = "masthead-paywall-audit"
FRESH_ID = "0" * 32  # stands for the new id the site gives a cookie-less reader

# Subscription-state personas: name, preferred demo account, the entitlement that fits.
# `fits` gets the reader's entitlement and the status of their latest subscription.
Fits = Callable[[Entitlement, str], bool]
STATES: list[tuple[str, str, Fits]] = [
    ("trialist", "trialist@example.com", lambda e, s: e.reads_everything and s == "trialing"),
    ("subscriber", "subscriber@example.com", lambda e, s: e.reads_everything and s == "active"),
    ("lapsed trialist", "lapsed-trialist@example.com", lambda e, s: e.lapsed is Lapse.TRIAL),
    (
        "lapsed subscriber",
        "lapsed-subscriber@example.com",
        lambda e, s: e.lapsed is Lapse.SUBSCRIPTION,
    ),
    ("past due", "past-due@example.com", lambda e, s: s == "past_due"),
    # Retention (decision 0035): a paused subscriber is gated at every door until it resumes.
    (
        "paused",
        "paused@example.com",
        lambda e, s: s == "paused" and e.paused_until is not None and not e.reads_everything,
    ),
    # Gift subscriptions (docs/gift-subscriptions.md): access comes from the complimentary
    # subscription a redeemed gift makes; after it ends the reader is a lapsed subscriber.
    (
        "gift recipient",
        "gift-recipient@example.com",
        lambda e, s: e.reads_everything and s == "complimentary",
    ),
    ("gift ended", "gift-ended@example.com", lambda e, s: e.lapsed is Lapse.SUBSCRIPTION),
]


@dataclass
class Persona:
    """One reader as the site sees it; `identity()` is what `access.decide` is asked about."""

    name: str
    user: Any = None
    anonymous_id: str | None = None  # the reader cookie this persona carries
    fresh_each_time: bool = False  # a new, cookie-less reader for every request
    user_agent: str = AUDIT_AGENT
    headers: dict[str, str] = field(default_factory=dict)
    token: bool = False  # an app client: Authorization: Bearer <token>
    exhaust: str | None = None  # "page" or "api": spend the meter before the walk
    only: str = ""  # reads only addresses under this prefix (the app client: the API)
    doors: list[str] = field(default_factory=list)  # addresses only this persona knows
    jar: http.cookiejar.CookieJar = field(default_factory=http.cookiejar.CookieJar)
    # The client address the site should believe for this persona (None: not one that any
    # institution's network holds); what the audit's expectations are worked out with.
    address: str | None = None
    # What kind of client the site takes this persona for (`metering.machines.classify`,
    # worked out by `Cast.build` the way the site does); a signed-in persona is a reader.
    machine: machines.MachineKind = machines.MachineKind.HUMAN

    def identity(self) -> ReaderIdentity:
        if self.user is not None:
            return ReaderIdentity(
                user_id=self.user.pk,
                anonymous_id=self.anonymous_id,
                is_staff=bool(self.user.is_staff or self.user.is_superuser),
            )
        if self.fresh_each_time:
            return ReaderIdentity(
                user_id=None, anonymous_id=FRESH_ID, fresh=True, machine=self.machine
            )
        return ReaderIdentity(user_id=None, anonymous_id=self.anonymous_id, machine=self.machine)

    @property
    def registered(self) -> bool:
        return self.user is not None


class Cast:
    """Makes the personas for one audit run and removes what it made."""

    def __init__(self, base_url: str) -> None:
        self.host = urlparse(base_url).hostname or "127.0.0.1"
        self.users: list[Any] = []  # made by the audit, deleted afterwards
        self.sessions: list[str] = []
        self.meter_keys: set[str] = set()
        self.missing: list[str] = []
        self.personal_tokens: list[PersonalToken] = []
        self.staff_user: Any = None  # gives the audit's gift links (staff give without limit)
        self.institution: Any = None  # group_personas.AuditInstitution, made by build()
        self.seat_reads: Any = None  # a real member's usage, put back as it was by close()

    def build(self) -> list[Persona]:
        reader = self._user("registered")
        exhausted = self._user("exhausted")
        app = self._user("app")
        staff = self._user("staff", staff=True)
        states: dict[str, Any] = {}
        self.staff_user = staff
        personas = [
            Persona("fresh anonymous", fresh_each_time=True),
            self._with_cookie(Persona("exhausted anonymous", exhaust="page")),
            self._signed_in(Persona("registered", user=reader)),
            self._signed_in(Persona("exhausted registered", user=exhausted, exhaust="page")),
        ]
        for name, email, fits in STATES:
            user = _account_in_state(email, fits)
            if user is None:
                self.missing.append(name)
                continue
            states[name] = user
            personas.append(self._signed_in(Persona(name, user=user)))
        _, raw = issue_app_token(app, name="paywall audit", now=clock.now())
        personas += [
            Persona(
                "app client (token)",
                user=app,
                token=True,
                exhaust="api",
                only="/api/",
                headers={"Authorization": f"Bearer {raw}"},
            ),
            self._signed_in(Persona("staff", user=staff)),
            # A Googlebot claim from an address that is not Google's: never trusted, so an
            # automated client (no meter to spend: it never meets one).
            self._with_cookie(
                Persona(
                    "spoofed crawler",
                    user_agent=GOOGLEBOT,
                    headers={"X-Forwarded-For": "66.249.66.1"},
                )
            ),
            Persona("unidentified bot", fresh_each_time=True, user_agent=SCRIPT),
            Persona("training crawler", fresh_each_time=True, user_agent=GPTBOT),
        ]
        personas += self._personal(states) + self._groups_and_institutions()
        for persona in personas:
            self._classify(persona)
        return personas

    def _classify(self, persona: Persona) -> None:
        """The machine kind the site will take a signed-out persona for: the same classifier,
        the same DNS check, on the address the site will believe (the forwarded one only from
        a trusted proxy)."""
        from masthead.audit.group_personas import forwarding_believed
        from masthead.metering.crawlers import claimed_crawler
        from masthead.metering.policy import current_policy

        if persona.user is not None or persona.token:
            return
        forwarded = persona.headers.get("X-Forwarded-For", "")
        address = forwarded if forwarded and forwarding_believed(self.host) else "127.0.0.1"
        verify = claimed_crawler(persona.user_agent) is not None and current_policy().allow_search
        persona.machine = machines.classify(persona.user_agent, {}, address=address, verify=verify)

    def _groups_and_institutions(self) -> list[Persona]:
        from masthead.audit import group_personas as gp

        personas: list[Persona] = []
        for name, user in (
            ("group member", gp.live_member()),
            ("removed member", gp.removed_member()),
        ):
            if user is None:
                self.missing.append(name)
            else:
                self.meter_keys.add(f"u:{user.pk}")
                self.seat_reads = (
                    gp.SeatReadsKept(user) if name == "group member" else self.seat_reads
                )
                personas.append(self._signed_in(Persona(name, user=user)))
        self.institution = inst = gp.AuditInstitution()
        by_domain = inst.reader("domain", verified=True)
        unverified = inst.reader("unverified", verified=False)
        self.meter_keys |= {f"u:{by_domain.pk}", f"u:{unverified.pk}"}
        personas += [
            self._signed_in(Persona("institution member by domain", user=by_domain)),
            self._signed_in(Persona("unverified institutional address", user=unverified)),
            Persona(
                "outsider",
                fresh_each_time=True,
                headers={"X-Forwarded-For": gp.OUTSIDE},
                exhaust=None,
            ),
        ]
        believed = gp.forwarding_believed(self.host)
        personas.append(
            Persona(
                "institution member by IP" if believed else "institution address, untrusted peer",
                fresh_each_time=True,
                headers={"X-Forwarded-For": gp.INSIDE},
                address=gp.INSIDE if believed else None,
            )
        )
        return personas

    def _personal(self, states: dict[str, Any]) -> list[Persona]:
        """Personal tokens (decision 0031): a lapsed subscriber's private feed and API token
        (what `decide` lets the owner read without counting), and a subscriber's revoked
        token and feed-only token used on the API (as anonymous: nothing gated at all)."""
        personas: list[Persona] = []
        lapsed, subscriber = states.get("lapsed subscriber"), states.get("subscriber")
        if lapsed is not None:
            raw = self._personal_token(lapsed, "feed")
            personas.append(
                Persona(
                    "personal feed (lapsed subscriber)",
                    user=lapsed,
                    only="/feeds/private/",
                    doors=[f"/feeds/private/{raw}/"],
                )
            )
            raw = self._personal_token(lapsed, "api")
            personas.append(
                Persona(
                    "personal token (api, lapsed subscriber)",
                    user=lapsed,  # a personal token never meters: the API only peeks
                    only="/api/",
                    headers={"Authorization": f"Bearer {raw}"},
                )
            )
        if subscriber is not None:
            raw = self._personal_token(subscriber, "feed", revoke=True)
            personas.append(
                Persona(
                    "personal feed (revoked)",
                    fresh_each_time=True,
                    only="/feeds/private/",
                    doors=[f"/feeds/private/{raw}/"],
                )
            )
            raw = self._personal_token(subscriber, "feed")
            personas.append(
                Persona(
                    "personal token (feed scope) on the api",
                    fresh_each_time=True,
                    only="/api/",
                    headers={"Authorization": f"Bearer {raw}"},
                )
            )
        return personas

    def _personal_token(self, owner: Any, scope: str, *, revoke: bool = False) -> str:
        now = clock.now()
        token, raw = issue_personal_token(owner, name="paywall audit", scopes=[scope], now=now)
        self.personal_tokens.append(token)
        if revoke:
            revoke_personal_token(token, now=now)
        return raw

    # -- credentials -------------------------------------------------------------------------
    def _user(self, role: str, *, staff: bool = False) -> Any:
        email = f"paywall-audit-{role}-{uuid.uuid4().hex[:10]}@audit.invalid"
        user = get_user_model().objects.create_user(
            username=email, email=email, is_staff=staff, is_superuser=staff
        )
        user.set_unusable_password()
        user.save(update_fields=["password"])
        self.users.append(user)
        self.meter_keys.add(f"u:{user.pk}")
        return user

    def _signed_in(self, persona: Persona) -> Persona:
        """A real session for the persona's account, made by Django's own login()."""
        engine = import_module(settings.SESSION_ENGINE)
        request = HttpRequest()
        request.session = engine.SessionStore()
        request.COOKIES = {}
        request.META = {"REMOTE_ADDR": "127.0.0.1", "HTTP_USER_AGENT": AUDIT_AGENT}
        login(request, persona.user, backend=settings.AUTHENTICATION_BACKENDS[0])
        request.session.save()
        key = request.session.session_key or ""
        self.sessions.append(key)
        persona.jar.set_cookie(_cookie(settings.SESSION_COOKIE_NAME, key, self.host))
        return persona

    def _with_cookie(self, persona: Persona) -> Persona:
        """A returning anonymous reader: a reader cookie the site's own code signs."""
        persona.anonymous_id = new_anonymous_id()
        response = HttpResponse()
        response.set_signed_cookie(
            settings.READER_COOKIE_NAME, persona.anonymous_id, salt=COOKIE_SALT
        )
        value = response.cookies[settings.READER_COOKIE_NAME].value
        persona.jar.set_cookie(_cookie(settings.READER_COOKIE_NAME, value, self.host))
        self.meter_keys.add(f"a:{persona.anonymous_id}")
        return persona

    def saw_cookie(self, value: str) -> None:
        """A reader cookie the site issued to the audit: that reader's meter goes too."""
        request = HttpRequest()
        request.COOKIES = {settings.READER_COOKIE_NAME: value}
        anonymous_id = anonymous_id_from(request)
        if anonymous_id:
            self.meter_keys.add(f"a:{anonymous_id}")

    # -- clean-up ----------------------------------------------------------------------------
    def close(self) -> None:
        engine = import_module(settings.SESSION_ENGINE)
        for key in self.sessions:
            engine.SessionStore(session_key=key).delete()
        keys = sorted(self.meter_keys)
        for start in range(0, len(keys), 500):
            chunk = keys[start : start + 500]
            MeteredRead.objects.filter(reader_key__in=chunk).delete()
            ReaderMeter.objects.filter(reader_key__in=chunk).delete()
        store = get_store()
        if isinstance(store, RedisMeterStore):
            for key in keys:
                for name in store.client.scan_iter(match=f"{store.prefix}:meter:{{{key}}}:*"):
                    store.client.delete(name)
        for token in self.personal_tokens:
            # The audit's own tokens and their history rows go, on whoever's account they were.
            AccountEvent.objects.filter(
                user_id=token.user_id, detail__startswith=str(token)
            ).delete()
            token.delete()
        for user in self.users:
            user.delete()
        if self.institution is not None:
            self.institution.close()
        if self.seat_reads is not None:
            self.seat_reads.restore()


def _account_in_state(email: str, fits: Fits) -> Any:
    """The demo account for a state when it is in that state, else any reader who is."""
    from masthead.subscriptions.models import Subscription

    now = clock.now()
    User = get_user_model()

    def in_state(user_id: int) -> bool:
        latest = (
            Subscription.objects.filter(user_id=user_id)
            .order_by("-created_at", "-pk")
            .values_list("status", flat=True)
            .first()
        )
        return latest is not None and fits(entitlement_for(user_id, now=now), latest)

    demo = User.objects.filter(email=email, is_staff=False, is_superuser=False).first()
    if demo is not None and in_state(demo.pk):
        return demo
    candidates = (
        Subscription.objects.filter(user__is_staff=False, user__is_superuser=False)
        .order_by("-created_at")
        .values_list("user_id", flat=True)[:1000]
    )
    for user_id in dict.fromkeys(candidates):
        if in_state(user_id):
            return User.objects.get(pk=user_id)
    return None


def _cookie(name: str, value: str, host: str) -> http.cookiejar.Cookie:
    if "." not in host:
        host += ".local"  # how http.cookiejar names dotless hosts such as localhost
    return http.cookiejar.Cookie(
        0,
        name,
        value,
        None,
        False,
        host,
        False,
        False,
        "/",
        True,
        False,
        None,
        True,
        None,
        None,
        {},
    )
