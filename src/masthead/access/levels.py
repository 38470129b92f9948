"""Who may read an article in full: the levels an editor picks, owned by `access`.

`newsroom` stores the level on each article; `access.decide` is the only code that says what a
level means for a reader.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class AccessLevel(models.TextChoices):
    """Who may read an article in full. Stored by newsroom, enforced by masthead.access."""

    METERED = "metered", _("Metered (counts against the free-article meter)")
    FREE = "free", _("Free for everyone")
    SUBSCRIBERS = "subscribers", _("Subscribers only")
