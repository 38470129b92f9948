"""Record the canonical mailbox of every address readers already have."""

from django.db import migrations
from django.utils import timezone

from masthead.core.mailboxes import canonical_mailbox  # a pure function, no model


def backfill(apps, schema_editor):
    User = apps.get_model("auth", "User")
    EmailAddress = apps.get_model("account", "EmailAddress")
    ReaderMailbox = apps.get_model("core", "ReaderMailbox")
    now = timezone.now()
    pairs = set(User.objects.exclude(email="").values_list("pk", "email"))
    pairs |= set(EmailAddress.objects.values_list("user_id", "email"))
    ReaderMailbox.objects.bulk_create(
        [
            ReaderMailbox(
                user_id=user_id,
                address=email.strip().lower(),
                mailbox=canonical_mailbox(email),
                first_seen_at=now,
            )
            for user_id, email in {(u, e.strip().lower()) for u, e in pairs}
        ],
        ignore_conflicts=True,
    )


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0002_reader_mailboxes"),
        ("account", "0009_emailaddress_unique_primary_email"),
    ]

    operations = [migrations.RunPython(backfill, migrations.RunPython.noop)]
