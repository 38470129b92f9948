from django.db import models


class ClockOffset(models.Model):
    """How far the demo clock runs ahead of real time (one row; never used in production)."""

    seconds = models.BigIntegerField(default=0)
    changed_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"clock +{self.seconds}s"


class SiteGeneration(models.Model):
    """The site generation on the embedded default (one row): see `masthead.core.generation`.

    With Redis the number lives in the shared cache instead; this row is then unused.
    """

    value = models.BigIntegerField()

    def __str__(self) -> str:
        return f"generation {self.value}"
