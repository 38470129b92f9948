"""Cross-cutting pieces every domain may use: the clock, site context, system checks."""
