from django.db import migrations


class Migration(migrations.Migration):
    """Joins the job queue's tables (outbox, task failures, scheduled runs) written side by side."""

    dependencies = [
        ("core", "0002_outbox_task_failures_scheduled_runs"),
        ("core", "0004_merge_mailboxes_and_site_generation"),
    ]

    operations = []
