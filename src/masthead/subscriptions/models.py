"""Plans, offers, trials and the subscription state machine's stored state.

Nothing here is deleted: plans and offers are ended (`ended_at`), subscriptions expire, and
every state change leaves a SubscriptionEvent. Only `subscriptions.actions` writes a
Subscription; the admin and views call the actions.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from masthead.core.history import AppendOnlyModel
from masthead.core.money import format_money

# How long a renewing subscription keeps access after its period ends while the renewal job
# has not run yet (cron runs every few minutes; this only covers a late or stopped worker).
RENEWAL_LEEWAY = timedelta(hours=6)
# Past due: access is kept while the payment is retried at these offsets from the first
# failure; after the last failed retry (or at the end of the grace period) it expires.
RETRY_DELAYS = (timedelta(days=1), timedelta(days=3), timedelta(days=6))
GRACE_PERIOD = timedelta(days=7)
# Trialists are reminded this long before a trial ends.
TRIAL_REMINDER_BEFORE = timedelta(days=3)


class Interval(models.TextChoices):
    MONTH = "month", _("Monthly")
    YEAR = "year", _("Yearly")


class Plan(models.Model):
    """What a subscriber pays regularly, and what it gives them."""

    name = models.CharField(max_length=80)
    slug = models.SlugField(max_length=40, unique=True)
    price_minor = models.PositiveIntegerField(help_text=_("Price in cents (1500 = $15.00)."))
    currency = models.CharField(max_length=3, default="USD")
    interval = models.CharField(max_length=5, choices=Interval.choices, default=Interval.MONTH)
    benefits = models.TextField(
        help_text=_("One benefit per line, e.g. 'Read all stories with unlimited access'."),
    )
    stripe_price_id = models.CharField(
        max_length=100, blank=True, help_text=_("Stripe price or plan id, when selling via Stripe.")
    )
    # A group plan: the price is per seat; a manager buys N seats and invites the readers who
    # hold them (masthead.groups, docs/groups-and-institutions.md).
    group = models.BooleanField(
        default=False, help_text=_("A group plan: the price is per seat, seats are bought in one.")
    )
    max_seats = models.PositiveSmallIntegerField(
        default=1, help_text=_("Group plans: the most seats one group may buy.")
    )
    ended_at = models.DateTimeField(
        null=True, blank=True, help_text=_("No new subscriptions after this moment.")
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["price_minor"]

    def __str__(self) -> str:
        return f"{self.name} ({self.price_text})"

    def clean(self) -> None:
        self.currency = self.currency.upper()
        if len(self.currency) != 3 or not self.currency.isalpha():
            raise ValidationError({"currency": _("Use a three-letter ISO currency code.")})
        if self.group and self.max_seats < 2:
            raise ValidationError({"max_seats": _("A group plan sells at least two seats.")})

    @property
    def price_text(self) -> str:
        per = _("a month") if self.interval == Interval.MONTH else _("a year")
        if self.group:
            per = _("a seat a month") if self.interval == Interval.MONTH else _("a seat a year")
        return f"{format_money(self.price_minor, self.currency)} {per}"

    def price_for(self, seats: int = 1) -> int:
        """What `seats` seats cost for one interval (a plan that is not a group's: one)."""
        return self.price_minor * (seats if self.group else 1)

    @property
    def benefit_list(self) -> list[str]:
        return [line.strip() for line in self.benefits.splitlines() if line.strip()]

    @property
    def months(self) -> int:
        return 1 if self.interval == Interval.MONTH else 12

    def is_live(self, now: datetime) -> bool:
        return self.ended_at is None or now < self.ended_at


class OfferKind(models.TextChoices):
    INTRO = "intro", _("Introductory price")
    TRIAL = "trial", _("Free trial")


class Offer(models.Model):
    """An introductory price ("Try 3 months for $9") or a free trial, on top of a plan."""

    code = models.SlugField(
        max_length=40, unique=True, help_text=_("Used in links: /checkout/offer/<code>/")
    )
    plan = models.ForeignKey(Plan, on_delete=models.PROTECT, related_name="offers")
    kind = models.CharField(max_length=5, choices=OfferKind.choices, default=OfferKind.INTRO)
    intro_price_minor = models.PositiveIntegerField(
        default=0, help_text=_("Introductory offers: the price for the whole introductory term.")
    )
    intro_periods = models.PositiveSmallIntegerField(
        default=1, help_text=_("Introductory offers: how many plan intervals the term covers.")
    )
    trial_days = models.PositiveSmallIntegerField(default=0, help_text=_("Trials: free days."))
    card_required = models.BooleanField(
        default=False, help_text=_("Trials: take a card and renew into the plan at the end.")
    )
    starts_at = models.DateTimeField(null=True, blank=True)
    ends_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text=_(
            "The offer disappears at this moment ('Offer ends' shows the day before "
            "if this is midnight)."
        ),
    )
    new_subscribers_only = models.BooleanField(
        default=True, help_text=_("Only readers who never paid for a subscription may take it.")
    )
    link_only = models.BooleanField(
        default=False, help_text=_("Hidden from the offers page; reachable only by its link.")
    )
    ended_at = models.DateTimeField(null=True, blank=True, help_text=_("Ended by staff."))
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind="trial", trial_days__gt=0) | Q(kind="intro", intro_periods__gt=0),
                name="offer_has_a_term",
            )
        ]

    def __str__(self) -> str:
        return f"{self.code}: {self.headline}"

    def clean(self) -> None:
        if self.kind == OfferKind.TRIAL and not self.trial_days:
            raise ValidationError({"trial_days": _("A trial needs at least one free day.")})
        if self.kind == OfferKind.INTRO and not self.intro_periods:
            raise ValidationError({"intro_periods": _("An offer covers at least one period.")})
        if self.starts_at and self.ends_at and self.ends_at <= self.starts_at:
            raise ValidationError({"ends_at": _("The offer must end after it starts.")})

    @property
    def headline(self) -> str:
        if self.kind == OfferKind.TRIAL:
            return str(_("Try free for %(days)s days") % {"days": self.trial_days})
        unit_count = self.intro_periods * (1 if self.plan.interval == Interval.MONTH else 12)
        if unit_count % 12 == 0:
            years = unit_count // 12
            term = _("1 year") if years == 1 else _("%(n)s years") % {"n": years}
        else:
            term = _("1 month") if unit_count == 1 else _("%(n)s months") % {"n": unit_count}
        price = format_money(self.intro_price_minor, self.plan.currency)
        return str(_("Try %(term)s for %(price)s") % {"term": term, "price": price})

    @property
    def then_text(self) -> str:
        if self.kind == OfferKind.TRIAL and not self.card_required:
            return str(_("no card needed; the trial simply ends unless you subscribe"))
        return str(_("then %(price)s, cancel any time") % {"price": self.plan.price_text})

    def is_live(self, now: datetime) -> bool:
        if self.ended_at is not None and now >= self.ended_at:
            return False
        if self.starts_at is not None and now < self.starts_at:
            return False
        if self.ends_at is not None and now >= self.ends_at:
            return False
        return self.plan.is_live(now)


class Status(models.TextChoices):
    TRIALING = "trialing", _("Free trial")
    ACTIVE = "active", _("Active")
    PAST_DUE = "past_due", _("Payment overdue")
    CANCELLED = "cancelled", _("Cancelled (access until the period ends)")
    COMPLIMENTARY = "complimentary", _("Complimentary")
    PAUSED = "paused", _("Paused (no charges, no access until it resumes)")
    EXPIRED = "expired", _("Expired")


LIVE_STATUSES = [s for s in Status.values if s != Status.EXPIRED]


class Subscription(models.Model):
    """One reader's subscription. Written only by masthead.subscriptions.actions."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="subscriptions"
    )
    plan = models.ForeignKey(Plan, on_delete=models.PROTECT, related_name="subscriptions")
    offer = models.ForeignKey(
        Offer, null=True, blank=True, on_delete=models.PROTECT, related_name="subscriptions"
    )
    status = models.CharField(max_length=16, choices=Status.choices)
    provider = models.CharField(max_length=20, default="test")
    provider_ref = models.CharField(max_length=100, blank=True, db_index=True)
    # When the provider's copy of this subscription was last applied (webhook ordering).
    provider_state_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField()
    current_period_start = models.DateTimeField()
    current_period_end = models.DateTimeField()
    # 0 for a trial, 1 for the first paid period, ...; a charge is unique per period.
    period_number = models.PositiveIntegerField(default=0)
    # Seats bought (group plans; 1 for everyone else). Each renewal charges price x seats.
    seats = models.PositiveSmallIntegerField(default=1)
    paid_periods = models.PositiveIntegerField(default=0)
    trial_end = models.DateTimeField(null=True, blank=True)
    auto_renew = models.BooleanField(default=True)
    next_plan = models.ForeignKey(
        Plan, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    retry_count = models.PositiveSmallIntegerField(default=0)
    next_retry_at = models.DateTimeField(null=True, blank=True)
    grace_until = models.DateTimeField(null=True, blank=True)
    trial_reminder_sent = models.BooleanField(default=False)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    # A pause (docs/retention.md): from `paused_at` to `paused_until`, when it resumes by
    # itself; the renewal date was moved on by the paused time when it started.
    paused_at = models.DateTimeField(null=True, blank=True)
    paused_until = models.DateTimeField(null=True, blank=True)
    # How often a pause, an early resume or a free month moved the renewal date: a renewal
    # notice already sent announced the old date, so the notice's key names this count.
    renewal_moves = models.PositiveSmallIntegerField(default=0)
    # A save offer's discount: the next `discount_renewals` renewals charge `discount_percent`
    # less (actions.renewal_price).
    discount_percent = models.PositiveSmallIntegerField(default=0)
    discount_renewals = models.PositiveSmallIntegerField(default=0)
    ended_at = models.DateTimeField(null=True, blank=True)
    checkout_key = models.CharField(max_length=64, null=True, blank=True, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["user"],
                condition=~Q(status="expired"),
                name="one_live_subscription_per_reader",
            )
        ]
        indexes = [models.Index(fields=["status", "current_period_end"])]

    def __str__(self) -> str:
        return f"{self.user} · {self.plan.name} · {self.get_status_display()}"

    @property
    def is_live(self) -> bool:
        return self.status != Status.EXPIRED

    @property
    def was_trial_only(self) -> bool:
        """Never paid: a lapse reads "Your trial period has expired"."""
        return self.paid_periods == 0 and self.trial_end is not None

    def access_until(self) -> datetime | None:
        """The moment access ends if nothing else happens; None when expired."""
        if self.status == Status.EXPIRED:
            return None
        if self.status == Status.PAST_DUE:
            return self.grace_until or self.current_period_end
        if self.status == Status.PAUSED:
            # Once the pause is over it renews as before (`has_access` says when it holds).
            return self.current_period_end + RENEWAL_LEEWAY
        if self.status in (Status.ACTIVE, Status.TRIALING) and self.auto_renew:
            return self.current_period_end + RENEWAL_LEEWAY
        return self.current_period_end

    def has_access(self, now: datetime) -> bool:
        if self.status == Status.PAUSED:
            # A pause whose end has passed gives access back at once, whether or not the
            # resume job has run yet (like RENEWAL_LEEWAY for a late renewal).
            return not self.pause_holds_at(now) and now < self.current_period_end + RENEWAL_LEEWAY
        until = self.access_until()
        return until is not None and now < until

    def pause_holds_at(self, now: datetime | None) -> bool:
        """Paused at `now` (None: paused at all, whatever the time)."""
        if self.status != Status.PAUSED:
            return False
        return now is None or self.paused_until is None or now < self.paused_until


class EventKind(models.TextChoices):
    TRIAL_STARTED = "trial_started", _("Trial started")
    SUBSCRIBED = "subscribed", _("Subscribed")
    RENEWED = "renewed", _("Renewed")
    PAYMENT_FAILED = "payment_failed", _("Payment failed")
    CANCELLED = "cancelled", _("Cancelled")
    RESUMED = "resumed", _("Resumed")
    PLAN_CHANGED = "plan_changed", _("Plan changed")
    PLAN_CHANGE_SCHEDULED = "plan_change_scheduled", _("Plan change scheduled")
    EXPIRED = "expired", _("Expired")
    COMP_GRANTED = "comp_granted", _("Complimentary access granted")
    REFUNDED = "refunded", _("Refunded")
    TRIAL_REMINDER = "trial_reminder", _("Trial ending reminder sent")
    PROVIDER_SYNC = "provider_sync", _("Updated from the payment provider")
    PAYMENT_RECORDED = "payment_recorded", _("Payment reported by the payment provider")
    RENEWAL_NOTICE = "renewal_notice", _("Renewal notice sent")
    PRICE_NOTICE = "price_notice", _("Price change notice sent")
    GIFT_ADDED = "gift_added", _("Gift subscription months added")
    PAUSED = "paused", _("Paused")
    UNPAUSED = "unpaused", _("Resumed after a pause")
    CANCEL_REASON = "cancel_reason", _("Cancellation started (reason and save offer shown)")
    SAVE_OFFER_ACCEPTED = "save_offer_accepted", _("Save offer accepted")
    SAVE_OFFER_DECLINED = "save_offer_declined", _("Save offer declined")
    WINBACK_SENT = "winback_sent", _("Win-back e-mail sent")
    DUNNING_NOTICE = "dunning_notice", _("Failed-payment e-mail sent")
    CARD_EXPIRY_NOTICE = "card_expiry_notice", _("Card expiry reminder sent")


class SubscriptionEvent(AppendOnlyModel):
    """Append-only history: one row per state change, with who and why."""

    subscription = models.ForeignKey(Subscription, on_delete=models.PROTECT, related_name="events")
    kind = models.CharField(max_length=32, choices=EventKind.choices)
    from_status = models.CharField(max_length=16, blank=True)
    to_status = models.CharField(max_length=16, blank=True)
    at = models.DateTimeField(help_text=_("Business time (the Masthead clock)."))
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reason = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d} {self.kind} {self.from_status}->{self.to_status}"


class ConsentRecord(AppendOnlyModel):
    """Express consent to an auto-renewing subscription, kept as evidence: the exact terms
    text shown beside the ticked box (and its SHA-256), when, for what, by whom, from which
    coarse network (an IPv4 /24 or IPv6 /48, never the address) and which browser.

    Written with the subscription in the same transaction (a Stripe checkout records it when
    the reader leaves for Stripe, with `subscription` empty and the form's `checkout_key`)."""

    subscription = models.ForeignKey(
        Subscription, null=True, blank=True, on_delete=models.PROTECT, related_name="consents"
    )
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    plan = models.ForeignKey(Plan, on_delete=models.PROTECT, related_name="+")
    offer = models.ForeignKey(
        Offer, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    terms_text = models.TextField()
    terms_sha256 = models.CharField(max_length=64)
    consented_at = models.DateTimeField(help_text=_("Business time (the Masthead clock)."))
    network = models.CharField(max_length=64)
    user_agent = models.CharField(max_length=300, blank=True)
    checkout_key = models.CharField(max_length=64, blank=True)
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["consented_at", "pk"]

    def __str__(self) -> str:
        return f"consent {self.pk} · {self.user} · {self.consented_at:%Y-%m-%d}"


class PlanPriceChange(AppendOnlyModel):
    """Staff changed a plan's price. New subscribers pay the new price at once (they consent
    to it at checkout); a subscriber already on the plan pays it from their first renewal at
    least PRICE_CHANGE_NOTICE_DAYS after their notice (`actions.renewal_price`)."""

    plan = models.ForeignKey(Plan, on_delete=models.PROTECT, related_name="price_changes")
    old_price_minor = models.PositiveIntegerField()
    new_price_minor = models.PositiveIntegerField()
    announced_at = models.DateTimeField(help_text=_("Business time (the Masthead clock)."))
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reason = models.TextField(blank=True)
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["announced_at", "pk"]

    def __str__(self) -> str:
        return f"{self.plan.name}: {self.old_price_minor} -> {self.new_price_minor}"


class NoticeKind(models.TextChoices):
    RENEWAL = "renewal", _("Renewal notice")
    PRICE_CHANGE = "price_change", _("Price change notice")
    DUNNING = "dunning", _("Failed-payment e-mail")
    CARD_EXPIRY = "card_expiry", _("Card expiry reminder")


class RenewalNotice(AppendOnlyModel):
    """A notice sent to a subscriber, with the exact text: one per subscription period
    (`renewal-<period>`), per price change (`price-<change id>`), per failed-payment e-mail of
    a failure episode (`dunning-<episode start>-d<day>`) or per card and expiry
    (`card-<card id>-<year>-<month>`), a database constraint (docs/dunning.md).

    `renews_at` is the moment the notice is about: the renewal it announces, for a dunning
    e-mail when access ends if the payment is not made, for a card reminder the renewal the
    expiring card would fail; `price_minor` is the amount it states."""

    subscription = models.ForeignKey(Subscription, on_delete=models.PROTECT, related_name="notices")
    kind = models.CharField(max_length=16, choices=NoticeKind.choices)
    key = models.CharField(max_length=40)
    price_change = models.ForeignKey(
        PlanPriceChange, null=True, blank=True, on_delete=models.PROTECT, related_name="notices"
    )
    renews_at = models.DateTimeField(help_text=_("The renewal this notice announces."))
    price_minor = models.PositiveIntegerField(help_text=_("The price the notice states."))
    currency = models.CharField(max_length=3)
    sent_at = models.DateTimeField(help_text=_("Business time (the Masthead clock)."))
    late = models.BooleanField(
        default=False, help_text=_("Sent after the window's minimum (the job did not run).")
    )
    to_email = models.EmailField(blank=True)
    subject = models.CharField(max_length=200)
    body = models.TextField()

    class Meta:
        ordering = ["sent_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["subscription", "key"], name="one_notice_per_key")
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.key} · subscription {self.subscription_id}"
