"""An erased account (decision 0028) leaves no raw insights events behind: its events and
those of the anonymous id it signed up from are deleted; the aggregates keep only ids and bits."""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_save
from django.dispatch import receiver

from masthead.accounts.models import AccountErasure
from masthead.insights.models import Event, ReaderAlias


@receiver(post_save, sender=AccountErasure, dispatch_uid="insights-forget-erased")
def forget_erased(sender: Any, instance: AccountErasure, created: bool, **_: Any) -> None:
    if not created:
        return
    account = f"u:{instance.user_id}"
    aliases = list(ReaderAlias.objects.filter(account=account).values_list("anonymous", flat=True))
    Event.objects.filter(reader__in=[account, *aliases]).delete()
    ReaderAlias.objects.filter(account=account).delete()
