"""Campaigns: windows in which the site (or part of it) is free for everyone."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _
from wagtail.admin.panels import FieldPanel, MultiFieldPanel
from wagtail.snippets.models import register_snippet

from masthead.access.levels import AccessLevel


@register_snippet
class Campaign(models.Model):
    """A scheduled free-access window. It switches itself on and off by the clock."""

    name = models.CharField(max_length=120, help_text=_("For staff, e.g. 'Relaunch day'."))
    banner_text = models.CharField(
        max_length=160,
        help_text=_(
            "Shown to everyone during the window, e.g. 'Free access for everyone - Sep. 30'."
        ),
    )
    starts_at = models.DateTimeField(help_text=_("In the site's time zone."))
    ends_at = models.DateTimeField(help_text=_("In the site's time zone; the window ends here."))
    opens_metered = models.BooleanField(
        default=True, help_text=_("Metered articles are free and do not count.")
    )
    opens_subscribers_only = models.BooleanField(
        default=True, help_text=_("Subscribers-only articles are free too.")
    )
    created_at = models.DateTimeField(auto_now_add=True)

    panels = [
        FieldPanel("name"),
        FieldPanel("banner_text"),
        MultiFieldPanel([FieldPanel("starts_at"), FieldPanel("ends_at")], heading=_("Window")),
        MultiFieldPanel(
            [FieldPanel("opens_metered"), FieldPanel("opens_subscribers_only")],
            heading=_("What it opens"),
        ),
    ]

    class Meta:
        ordering = ["starts_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_at__gt=models.F("starts_at")),
                name="campaign_ends_after_it_starts",
            )
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        super().clean()
        if self.starts_at and self.ends_at and self.ends_at <= self.starts_at:
            raise ValidationError({"ends_at": _("A campaign must end after it starts.")})
        if not (self.opens_metered or self.opens_subscribers_only):
            raise ValidationError(_("A campaign must open metered or subscribers-only articles."))

    def opens(self, article: Any) -> bool:
        if article.access_level == AccessLevel.METERED:
            return self.opens_metered
        if article.access_level == AccessLevel.SUBSCRIBERS:
            return self.opens_subscribers_only
        return True
