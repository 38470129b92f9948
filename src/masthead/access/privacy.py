"""Publication and Wagtail page privacy, as the first rule of the access decision.

A page that is not live, or that sits under a Wagtail view restriction (password, login,
groups) this request has not passed, is hidden: every door leaves it out (lists, feeds,
sitemaps, search, the API) or answers 404, and none of its text reaches the reader.

A `Screen` is what one request has passed. It reads the site's view restrictions once (one
query, only when a page with a tree path is asked about) and asks each restriction Wagtail's
own `accept_request`, so a restriction means here exactly what it means to Wagtail's page
serving. `Screen(None)` is the screen of nobody in particular: it passes no restriction, and
is what doors whose output is shared by every reader (feeds, sitemaps, the API's list, cached
fragments) use.

Stand-ins without a tree path (the route table's `ArticleRoute`, the probes of
`doors.readable_in_full`) count as public: the route table only remembers live, unrestricted
pages and forgets them all on any publish, unpublish or restriction change.
"""

from __future__ import annotations

from typing import Any, TypeVar

from django.db.models import QuerySet
from django.http import HttpRequest

UNPUBLISHED = "unpublished"
PRIVATE = "private"
Pages = TypeVar("Pages", bound=QuerySet)


class Screen:
    """The view restrictions one request has passed, and whether it is an editor's preview."""

    def __init__(self, request: HttpRequest | None) -> None:
        self._request = request
        self.previewing = bool(getattr(request, "is_preview", False))
        self._restrictions: list[Any] | None = None
        self._source: Screen | None = None
        self._passed: dict[int, bool] = {}
        # True once a restricted page was let through: the response is then this reader's.
        self.personal = False

    def for_nobody(self) -> Screen:
        """The screen of nobody in particular, reading the restrictions this one reads (so a
        request that needs both reads them once)."""
        nobody = Screen(None)
        nobody._source = self
        return nobody

    @property
    def restrictions(self) -> list[Any]:
        if self._restrictions is None and self._source is not None:
            self._restrictions = self._source.restrictions
        if self._restrictions is None:
            from wagtail.models import PageViewRestriction

            self._restrictions = list(
                PageViewRestriction.objects.select_related("page").prefetch_related("groups")
            )
        return self._restrictions

    def passes(self, restriction: Any) -> bool:
        if self._request is None:
            return False
        if restriction.pk not in self._passed:
            self._passed[restriction.pk] = _accepts(restriction, self._request)
        return self._passed[restriction.pk]

    def withheld(self, article: Any) -> tuple[str | None, bool]:
        """(UNPUBLISHED or PRIVATE or None, whether the article sits behind a restriction
        this request passed)."""
        if self.previewing:  # an editor's preview of a draft: Wagtail checked the editor
            return None, False
        if not getattr(article, "live", True):
            return UNPUBLISHED, False
        path = getattr(article, "path", "") or ""
        if not path:
            return None, False
        restricted = False
        for restriction in self.restrictions:
            if path.startswith(restriction.page.path):
                if not self.passes(restriction):
                    return PRIVATE, False
                restricted = True
        if restricted:
            self.personal = True
        return None, restricted

    def readable(self, queryset: Pages) -> Pages:
        """`queryset` (of pages) without what this screen hides: pages that are not live, and
        pages under a restriction it has not passed."""
        queryset = queryset.filter(live=True)
        for restriction in self.restrictions:
            if self.passes(restriction):
                self.personal = True
                continue
            queryset = queryset.exclude(path__startswith=restriction.page.path)
        return queryset


def _accepts(restriction: Any, request: HttpRequest) -> bool:
    """Wagtail's `accept_request`, for requests that may lack a session or a user."""
    if not hasattr(request, "session") and restriction.restriction_type == "password":
        return False
    user = getattr(request, "user", None)
    if user is None and restriction.restriction_type != "password":
        return False
    return bool(restriction.accept_request(request))
