"""Masthead access: the one decision - may this reader read this article, and what do they see.

Every door that shows article text (page, print view, feeds, API, search, structured data)
goes through `masthead.access.doors`, which asks `decide`.
"""

from typing import Any

__all__ = ["Decision", "Level", "Reason", "decide"]


def __getattr__(name: str) -> Any:
    # Lazy, so importing the package (as INSTALLED_APPS does) loads no models early.
    if name in __all__:
        from masthead.access import decision

        return getattr(decision, name)
    raise AttributeError(name)
