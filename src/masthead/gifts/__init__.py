"""Gift links: a subscriber (or staff) gives one article to whoever opens the link.

`masthead.access.decision.decide` reads a `GiftPass` (rule `GIFT`); this app owns the links,
their tokens, the monthly allowance and what followed an open. See docs/gifts.md.
"""
