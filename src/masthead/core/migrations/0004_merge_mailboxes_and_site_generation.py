from django.db import migrations


class Migration(migrations.Migration):
    """Joins two migrations written side by side (reader mailboxes; the site generation)."""

    dependencies = [
        ("core", "0002_site_generation"),
        ("core", "0003_reader_mailboxes_backfill"),
    ]

    operations = []
