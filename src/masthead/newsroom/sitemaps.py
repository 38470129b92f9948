"""The XML sitemap: every page the access decision shows to nobody in particular.

A sitemap is shared by every reader and crawler, so it lists what `doors.anyone()` lets
through: live pages outside every view restriction (Wagtail's own sitemap said `.public()`;
this says the same through the one rule set, so the two cannot drift).
"""

from __future__ import annotations

from typing import Any

from wagtail.contrib.sitemaps import Sitemap

from masthead.access.doors import anyone


class ReadableSitemap(Sitemap):  # type: ignore[misc]
    def items(self) -> Any:
        pages = self.get_wagtail_site().root_page.get_descendants(inclusive=True)
        return anyone().readable(pages).order_by("path").defer_streamfields().specific()


SITEMAPS = {"pages": ReadableSitemap}
