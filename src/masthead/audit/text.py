"""How the audit reads a response and matches gated text in it.

Every response is read as raw bytes and reduced to one stream of words, keeping everything a
reader or a scraper could get at: element text, attribute values (``<meta content>``,
``data-*``, ``alt``, ``title``...), comments, scripts, CDATA, JSON strings (``\\u`` escapes
included) and HTML escaped inside XML or JSON (feeds, the API). Gated text is cut into
shingles: every run of ``SHINGLE`` words of a block, and every shorter sentence whole (a
sentence of ``MIN_SHORT`` words or more), so a five-word sentence that leaks alone is found as
surely as a paragraph. Tokens are compared, never markup, so entities, escapes, tags inside a
sentence and whitespace cannot hide a match.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable

SHINGLE = 6  # words in a shingle cut from a longer run of gated text
MIN_SHORT = 3  # a sentence shorter than SHINGLE counts whole from this many words

Shingle = tuple[str, ...]

_JSON_ESCAPE = re.compile(r"\\(u[0-9a-fA-F]{4}|[\"\\/bfnrt])")
_SIMPLE = {"b": " ", "f": " ", "n": " ", "r": " ", "t": " ", '"': '"', "\\": "\\", "/": "/"}
_COMMENT = re.compile(r"<!--(.*?)-->", re.S)
_CDATA = re.compile(r"<!\[CDATA\[(.*?)\]\]>", re.S)
_TAG = re.compile(r"<(/?[A-Za-z!?][^<>]*)>")
_ATTRIBUTE = re.compile(r"""=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+))""")
_WORD = re.compile(r"\w+")
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+")


def _json_unescape(text: str) -> str:
    def one(match: re.Match[str]) -> str:
        code = match[1]
        if code[0] == "u":
            char = chr(int(code[1:], 16))
            return " " if 0xD800 <= ord(char) <= 0xDFFF else char
        return _SIMPLE[code]

    return _JSON_ESCAPE.sub(one, text)


def _tag_values(match: re.Match[str]) -> str:
    """A tag becomes its attribute values, so `content="..."` stays readable text."""
    values = [next(filter(None, groups), "") for groups in _ATTRIBUTE.findall(match[1])]
    return " " + " ".join(values) + " "


def readable(raw: bytes | str, *, attributes: bool = True) -> str:
    """Everything readable in a response body, as plain text; `attributes=False` keeps the
    text between tags only (so a link's address does not split the sentence around it)."""
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
    for _ in range(3):  # JSON in HTML, HTML escaped in XML or JSON, and once more for safety
        previous = text
        text = _json_unescape(text)
        text = _COMMENT.sub(lambda m: f" {m[1]} ", text)
        text = _CDATA.sub(lambda m: f" {m[1]} ", text)
        text = html.unescape(_TAG.sub(_tag_values if attributes else " ", text))
        if text == previous:
            break
    return text


def words(text: str) -> list[str]:
    return [word.casefold() for word in _WORD.findall(text)]


def shingles_of(fragment: str) -> set[Shingle]:
    """The shingles of one piece of (HTML) text: SHINGLE-word runs, and short sentences whole."""
    plain = readable(fragment, attributes=False)
    found: set[Shingle] = set()
    tokens = words(plain)
    found.update(tuple(tokens[i : i + SHINGLE]) for i in range(len(tokens) - SHINGLE + 1))
    for sentence in _SENTENCE_END.split(plain):
        sentence_words = words(sentence)
        if MIN_SHORT <= len(sentence_words) < SHINGLE:
            found.add(tuple(sentence_words))
    if MIN_SHORT <= len(tokens) < SHINGLE:
        found.add(tuple(tokens))
    return found


def all_shingles(fragments: Iterable[str]) -> set[Shingle]:
    found: set[Shingle] = set()
    for fragment in fragments:
        found |= shingles_of(fragment)
    return found


def _masked(tokens: list[str], mask: Shingle) -> list[str]:
    if not mask:
        return tokens
    size, masked, i = len(mask), [], 0
    while i < len(tokens):
        if tuple(tokens[i : i + size]) == mask:
            masked.append("\0")
            i += size
        else:
            masked.append(tokens[i])
            i += 1
    return masked


class Page:
    """A response body reduced to the word runs any shingle could match: read twice, with
    attribute values (a leak in `content="..."`) and without (a link inside a sentence)."""

    def __init__(self, raw: bytes | str, *, mask: Shingle = ()) -> None:
        """`mask`: words the page may echo back (a search page repeats its query)."""
        self.streams = [
            _masked(words(readable(raw, attributes=keep)), mask) for keep in (True, False)
        ]
        self._grams: dict[int, set[Shingle]] = {}

    def grams(self, size: int) -> set[Shingle]:
        if size not in self._grams:
            self._grams[size] = {
                tuple(tokens[i : i + size])
                for tokens in self.streams
                for i in range(len(tokens) - size + 1)
            }
        return self._grams[size]

    def contains(self, shingle: Shingle) -> bool:
        return shingle in self.grams(len(shingle))

    def first_of(self, shingles: Iterable[Shingle]) -> Shingle | None:
        return next((s for s in shingles if self.contains(s)), None)
