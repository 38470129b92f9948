"""Groups and institutions: group plans with seats, and institutional access by verified
e-mail domain or IP range. What `access.decide` reads is `passes.Coverage`
(docs/groups-and-institutions.md, decision 0036)."""
