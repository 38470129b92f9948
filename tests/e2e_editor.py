"""The editor of the cross-process test, run as its own process against the server's
database: `python -m tests.e2e_editor seed|narrow` (settings from the environment).

`seed` prints the articles' URLs as JSON; `narrow` makes every change that narrows access
(unpublish, move to subscribers-only, a stricter meter policy, a campaign ending) and leaves
one article expiring for the jobs runner (`masthead run-jobs`) to unpublish.
"""

from __future__ import annotations

import json
import os
import sys
from datetime import timedelta


def main(action: str) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "masthead.settings")
    import django

    django.setup()
    from django.utils import timezone

    from masthead.access.levels import AccessLevel
    from masthead.access.models import Campaign
    from masthead.metering.models import MeterPolicy
    from masthead.newsroom.models import ArticlePage
    from tests import factories

    names = ("unpublished", "stricter", "expiring", "policy", "campaign")
    if action == "seed":
        policy = MeterPolicy.objects.first() or MeterPolicy()
        policy.anonymous_allowance = 3
        policy.save()
        now = timezone.now()
        Campaign.objects.create(
            name="Open house",
            banner_text="Everything is free today",
            starts_at=now - timedelta(hours=1),
            ends_at=now + timedelta(days=1),
            opens_metered=False,
            opens_subscribers_only=True,
        )
        urls = {}
        for name in names:
            level = AccessLevel.SUBSCRIBERS if name == "campaign" else AccessLevel.METERED
            page = factories.article(
                f"The {name} article",
                access_level=level,
                body=factories.paragraphs(5, prefix=f"{name.title()}"),
            )
            urls[name] = page.url
        print(json.dumps(urls))
        return
    if action == "narrow":
        pages = {name: ArticlePage.objects.get(title=f"The {name} article") for name in names}
        pages["unpublished"].unpublish()
        stricter = pages["stricter"]
        stricter.access_level = AccessLevel.SUBSCRIBERS
        stricter.save_revision().publish()
        # Expired without Wagtail's signals: only the jobs runner's publish_scheduled sees it.
        ArticlePage.objects.filter(pk=pages["expiring"].pk).update(
            expire_at=timezone.now() - timedelta(minutes=1)
        )
        policy = MeterPolicy.objects.get()
        policy.anonymous_allowance = 0
        policy.allow_ai_train = True  # robots.txt says so on every worker's next request
        policy.save()
        campaign = Campaign.objects.get()
        campaign.ends_at = timezone.now()
        campaign.save()
        print("narrowed")
        return
    raise SystemExit(f"unknown action {action!r}")


if __name__ == "__main__":
    main(sys.argv[1])
