"""Staff-editable message copy: placeholders are checked when saved, filled in exactly once.

Copy uses `{count}`, `{period}` and `{site}`; anything else (an unknown name, a format spec,
attribute access, a stray brace) is refused on save, so a reader never sees a raw template.
"""

from __future__ import annotations

import string

from django.core.exceptions import ValidationError

PLACEHOLDERS = ("count", "period", "site")


def placeholders_in(text: str) -> list[str]:
    """Names used in `text`; ValidationError for anything that is not a plain `{name}`."""
    names: list[str] = []
    try:
        parsed = list(string.Formatter().parse(text))
    except ValueError as exc:
        raise ValidationError(
            "Unbalanced braces: write placeholders as {count}, {period} or {site}.",
            code="unbalanced_braces",
        ) from exc
    for _literal, name, spec, conversion in parsed:
        if name is None:
            continue
        if name not in PLACEHOLDERS or spec or conversion:
            shown = (
                "{"
                + name
                + (f"!{conversion}" if conversion else "")
                + (f":{spec}" if spec else "")
                + "}"
            )
            raise ValidationError(
                "Unknown placeholder %(shown)s: use only {count}, {period} or {site}.",
                code="unknown_placeholder",
                params={"shown": shown},
            )
        names.append(name)
    return names


def validate_copy(text: str) -> None:
    placeholders_in(text)


def fill(text: str, *, count: int, period: str, site: str) -> str:
    """Render validated copy once; the result is plain text (templates escape it)."""
    return text.format_map({"count": count, "period": period, "site": site})
