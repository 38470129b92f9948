"""Meter policy (edited by staff in the Wagtail admin) and the database counter's history."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import (
    EmailValidator,
    MaxValueValidator,
    MinValueValidator,
    URLValidator,
)
from django.db import models
from django.utils.translation import gettext_lazy as _
from wagtail.admin.panels import FieldPanel, MultiFieldPanel
from wagtail.contrib.settings.models import BaseGenericSetting, register_setting

from masthead.metering.copy import validate_copy

COPY_HELP = _(
    "Leave empty for the built-in, translated copy. Placeholders: {count}, {period}, {site}."
)


class PeriodKind(models.TextChoices):
    CALENDAR_MONTH = "calendar_month", _("Calendar month (in the site's time zone)")
    ROLLING_DAYS = "rolling_days", _("A number of days from the reader's first free article")


class FailMode(models.TextChoices):
    OPEN = "open", _("Fail open: show metered articles in full, uncounted")
    CLOSED = "closed", _("Fail closed: show the preview only")


def validate_licensing_contact(value: str) -> None:
    """An e-mail address or an http(s) URL: what machine-readable terms point licensees at."""
    if not value:
        return
    try:
        if "@" in value and not value.startswith(("http://", "https://")):
            EmailValidator()(value)
        else:
            URLValidator(schemes=["http", "https"])(value)
    except ValidationError:
        raise ValidationError(
            _("Enter an e-mail address or a web address (https://...)."), code="invalid"
        ) from None


def _copy_field(label: Any) -> models.CharField:
    return models.CharField(
        label, max_length=200, blank=True, validators=[validate_copy], help_text=COPY_HELP
    )


@register_setting(icon="lock")
class MeterPolicy(BaseGenericSetting):
    """How many articles a reader may read free, over what period, and what they are told."""

    period_kind = models.CharField(
        max_length=20, choices=PeriodKind.choices, default=PeriodKind.CALENDAR_MONTH
    )
    rolling_days = models.PositiveSmallIntegerField(
        default=30,
        validators=[MinValueValidator(1), MaxValueValidator(366)],
        help_text=_("Length of the period when it is a number of days."),
    )
    anonymous_allowance = models.PositiveSmallIntegerField(
        default=3,
        validators=[MaxValueValidator(100)],
        help_text=_("Free metered articles per period for readers who are not signed in."),
    )
    registration_wall = models.BooleanField(
        default=False,
        help_text=_("When anonymous readers run out, invite them to register to read more."),
    )
    registered_allowance = models.PositiveSmallIntegerField(
        default=3,
        validators=[MaxValueValidator(100)],
        help_text=_("Free metered articles per period for signed-in readers (in total)."),
    )
    preview_blocks = models.PositiveSmallIntegerField(
        default=2,
        validators=[MaxValueValidator(20)],
        help_text=_("Body blocks shown before the paywall (0 shows the standfirst only)."),
    )
    fail_mode = models.CharField(max_length=10, choices=FailMode.choices, default=FailMode.OPEN)
    crawlers_read_in_full = models.BooleanField(
        default=False,
        help_text=_(
            "Flexible sampling: search engine crawlers verified by reverse and forward DNS "
            "read gated articles in full. A User-Agent claim alone never does."
        ),
    )
    gift_allowance = models.PositiveSmallIntegerField(
        default=5,
        validators=[MaxValueValidator(1000)],
        help_text=_("Gift links each subscriber may create per calendar month (staff: no limit)."),
    )
    gift_days = models.PositiveSmallIntegerField(
        default=7,
        validators=[MinValueValidator(1), MaxValueValidator(90)],
        help_text=_("Days a gift link works after it is created."),
    )
    # The machine policy (docs/machines.md): robots.txt, Content Signals, /machine-access.json
    # and what automated clients get on gated articles (access.decision, Reason.AUTOMATED).
    allow_search = models.BooleanField(
        _("search engines allowed (search)"),
        default=True,
        help_text=_(
            "Search engines may crawl and index articles. Verified search crawlers then read "
            "what flexible sampling grants them; when off they get the preview only."
        ),
    )
    allow_ai_input = models.BooleanField(
        _("AI answer engines allowed (ai-input)"),
        default=False,
        help_text=_(
            "AI assistants and answer engines may fetch articles to answer a question "
            "(retrieval, grounding). When off they get the preview only."
        ),
    )
    allow_ai_train = models.BooleanField(
        _("AI training allowed (ai-train)"),
        default=False,
        help_text=_(
            "Articles may be collected to train or fine-tune AI models. When off, training "
            "crawlers are disallowed in robots.txt and get the preview only."
        ),
    )
    licensing_contact = models.CharField(
        _("licensing contact"),
        max_length=254,
        blank=True,
        validators=[validate_licensing_contact],
        help_text=_(
            "An e-mail address or web address for licensing articles to machines; shown in "
            "robots.txt and /machine-access.json."
        ),
    )
    copy_left_one = _copy_field(_("Meter message, one article left"))
    copy_left_other = _copy_field(_("Meter message, several articles left"))
    copy_last = _copy_field(_("Meter message, last free article"))
    copy_exhausted = _copy_field(_("Paywall heading when the meter is spent"))
    copy_registration_wall = _copy_field(_("Registration wall message"))
    copy_subscribers_only = _copy_field(_("Paywall heading on subscribers-only articles"))

    panels = [
        MultiFieldPanel(
            [
                FieldPanel("period_kind"),
                FieldPanel("rolling_days"),
                FieldPanel("anonymous_allowance"),
                FieldPanel("registration_wall"),
                FieldPanel("registered_allowance"),
                FieldPanel("preview_blocks"),
                FieldPanel("fail_mode"),
                FieldPanel("crawlers_read_in_full"),
            ],
            heading=_("Meter"),
        ),
        MultiFieldPanel(
            [FieldPanel("gift_allowance"), FieldPanel("gift_days")],
            heading=_("Gift links"),
        ),
        MultiFieldPanel(
            [
                FieldPanel("allow_search"),
                FieldPanel("allow_ai_input"),
                FieldPanel("allow_ai_train"),
                FieldPanel("licensing_contact"),
            ],
            heading=_("Machines: search engines, AI answer engines, AI training"),
        ),
        MultiFieldPanel(
            [
                FieldPanel("copy_left_one"),
                FieldPanel("copy_left_other"),
                FieldPanel("copy_last"),
                FieldPanel("copy_exhausted"),
                FieldPanel("copy_registration_wall"),
                FieldPanel("copy_subscribers_only"),
            ],
            heading=_("Messages"),
        ),
    ]

    class Meta:
        verbose_name = _("meter policy")

    def __str__(self) -> str:
        return "Meter policy"

    def clean(self) -> None:
        super().clean()
        if self.registration_wall and self.registered_allowance <= self.anonymous_allowance:
            raise ValidationError(
                {
                    "registered_allowance": _(
                        "With a registration wall, registered readers must get more free "
                        "articles than anonymous readers."
                    )
                }
            )

    def allowance_for(self, *, registered: bool) -> int:
        return self.registered_allowance if registered else self.anonymous_allowance


class ReaderMeter(models.Model):
    """One row per counted reader; locked while a read is recorded so counts stay exact."""

    reader_key = models.CharField(max_length=80, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.reader_key


class ReadSource(models.TextChoices):
    READ = "read", _("Read on the site")
    CARRIED_OVER = "carried_over", _("Carried over from anonymous reading at sign-in")


class MeteredRead(models.Model):
    """Append-only: a metered article counted against a reader's free allowance in a period."""

    reader_key = models.CharField(max_length=80)
    period_key = models.CharField(max_length=40)
    article_id = models.PositiveBigIntegerField()
    window_opens_at = models.DateTimeField()
    window_closes_at = models.DateTimeField()
    read_at = models.DateTimeField()
    source = models.CharField(max_length=16, choices=ReadSource.choices, default=ReadSource.READ)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["reader_key", "period_key", "article_id"], name="one_count_per_period"
            )
        ]
        indexes = [
            models.Index(fields=["reader_key", "window_closes_at"], name="meter_reader_window")
        ]

    def __str__(self) -> str:
        return f"{self.reader_key} read {self.article_id} ({self.period_key})"
