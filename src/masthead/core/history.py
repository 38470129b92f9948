"""The append-only base for history and money tables (ledger rows, subscription events)."""

from __future__ import annotations

from django.db import models


class AppendOnlyQuerySet(models.QuerySet):
    """Refuses bulk updates and deletes; the models using it refuse them row by row too."""

    def update(self, **kwargs):  # type: ignore[no-untyped-def]
        raise TypeError("History rows are append-only.")

    def delete(self):  # type: ignore[no-untyped-def]
        raise TypeError("History rows are append-only.")


class AppendOnlyModel(models.Model):
    """A row written once: saving it again or deleting it raises TypeError."""

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        if self.pk is not None:
            raise TypeError(f"{type(self).__name__} rows are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        raise TypeError(f"{type(self).__name__} rows are append-only.")
