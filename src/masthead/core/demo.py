"""Demo staff for the business side: a Publishers login."""

from __future__ import annotations

import os

from django.contrib.auth import get_user_model

from masthead.core.publishers import make_publisher

PUBLISHER_EMAIL = "publisher@meridian.example"
PUBLISHER_PASSWORD = "meridian-publisher-2026"


def load() -> list[str]:
    User = get_user_model()
    user = User.objects.filter(email=PUBLISHER_EMAIL).first()
    if user is None:
        user = User.objects.create_user(
            username=PUBLISHER_EMAIL, email=PUBLISHER_EMAIL, password=PUBLISHER_PASSWORD
        )
    make_publisher(user)  # idempotent: a newer release's permissions join the group too
    host, port = os.environ.get("HOST", "127.0.0.1"), os.environ.get("PORT", "8000")
    return [
        f"Publisher login (campaigns, meter policy, offers, plans): {PUBLISHER_EMAIL} / "
        f"{PUBLISHER_PASSWORD} at http://{host}:{port}/admin/ and /django-admin/"
    ]
