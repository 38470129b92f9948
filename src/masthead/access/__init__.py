"""Masthead access: the one decision - may this reader read this article, and what do they see.

Every door that shows article text (page, print view, feeds, API, search, structured data)
goes through `masthead.access.doors`, which asks `decide`.
"""

from masthead.access.decision import Decision, Level, Reason, decide

__all__ = ["Decision", "Level", "Reason", "decide"]
