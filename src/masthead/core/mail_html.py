"""The HTML alternative of every e-mail, in the site's design, made from its text part.

One layout for all of them (lifecycle e-mails, receipts, allauth's confirmation and reset
e-mails): the text part stays the reference, so the two can never say different things.
Paragraphs are separated by blank lines; a line "Label: <url>" becomes a button named by its
label; any other URL becomes a link. Styles are inline (mail clients drop <style> sheets);
URLs are already absolute on SITE_URL (`masthead.core.links`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from django.conf import settings
from django.template.loader import render_to_string

_URL = re.compile(r"https?://[^\s<>\"']+[^\s<>\"'.,;:!?)]")
_LABELLED = re.compile(r"^(?P<label>[^\n:]{2,160}?):\s+(?P<url>https?://\S+)$")


@dataclass
class Part:
    """A paragraph: lines of (text, url-or-empty) runs, or a button."""

    lines: list[list[tuple[str, str]]] = field(default_factory=list)
    button: tuple[str, str] | None = None


def _runs(line: str) -> list[tuple[str, str]]:
    runs: list[tuple[str, str]] = []
    at = 0
    for match in _URL.finditer(line):
        if match.start() > at:
            runs.append((line[at : match.start()], ""))
        runs.append((match.group(0), match.group(0)))
        at = match.end()
    if at < len(line):
        runs.append((line[at:], ""))
    return runs


def parts(text: str) -> list[Part]:
    found: list[Part] = []
    for block in re.split(r"\n\s*\n", text.strip()):
        paragraph = Part()
        for line in block.splitlines():
            labelled = _LABELLED.match(line.strip())
            if labelled:
                if paragraph.lines:
                    found.append(paragraph)
                    paragraph = Part()
                # "Your trial has ended. See all offers: <url>": the sentence, then a button.
                lead, _, label = labelled["label"].rpartition(". ")
                if lead:
                    paragraph.lines.append(_runs(lead + "."))
                    found.append(paragraph)
                    paragraph = Part()
                found.append(Part(button=(label, labelled["url"])))
            elif line.strip():
                paragraph.lines.append(_runs(line.strip()))
        if paragraph.lines:
            found.append(paragraph)
    return found


def html_alternative(subject: str, text: str) -> str:
    return render_to_string(
        "core/email/message.html",
        {
            "subject": subject,
            "parts": parts(text),
            "site_name": settings.SITE_NAME,
            "site_url": settings.SITE_URL,
        },
    )
