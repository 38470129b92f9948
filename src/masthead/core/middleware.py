"""Refuse input that no part of Masthead can store or compare, once, before any view runs.

PostgreSQL text cannot hold a NUL character, and no database driver can encode a lone UTF-16
surrogate (what a JSON ``"\\ud800"`` decodes to). Either one reaching a query is a 500 on
PostgreSQL, whichever view passed it on; so the check is made here for every value a request
carries (path, query keys and values, form fields, JSON strings and keys), and a bad value is a
400: JSON with an error code under ``/api/``, the site's helpful 400 page elsewhere. A cookie
with such a value is dropped instead (the reader could not clear it from a link). See
docs/decisions/0016-invalid-input-and-mailboxes.md.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string

# No link or form of ours comes close; longer query values only cost (search, filters).
MAX_QUERY_VALUE = 2048
API_PREFIX = "/api/"
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


class InvalidInput(Exception):
    def __init__(self, code: str, location: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.location = location
        self.message = message


def problem_with(value: str) -> str | None:
    """What makes `value` unstorable ("nul" or "bad_unicode"), or None when it is fine."""
    if "\x00" in value:
        return "nul"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "bad_unicode"
    return None


_WORDS = {
    "nul": "contains a NUL character",
    "bad_unicode": "is not valid Unicode text",
    "too_long": f"is longer than {MAX_QUERY_VALUE} characters",
    "too_large": "is too large",
}


def _check(value: str, location: str) -> None:
    problem = problem_with(value)
    if problem:
        raise InvalidInput(f"invalid_{problem}", location, f"{location} {_WORDS[problem]}.")


def _json_strings(value: Any, location: str) -> Iterator[tuple[str, str]]:
    if isinstance(value, str):
        yield value, location
    elif isinstance(value, dict):
        for key, item in value.items():
            yield key, f"{location}.{key!s}"
            yield from _json_strings(item, f"{location}.{key!s}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _json_strings(item, f"{location}[{index}]")


def check_request(request: HttpRequest) -> None:
    """Raise InvalidInput for the first value of `request` that cannot be stored."""
    _check(request.path_info, "path")
    for key, values in request.GET.lists():
        _check(key, "query parameter name")
        for value in values:
            _check(value, f"query.{key}")
            if len(value) > MAX_QUERY_VALUE:
                where = f"query.{key}"
                raise InvalidInput("invalid_too_long", where, f"{where} {_WORDS['too_long']}.")
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return
    content_type = request.content_type or ""
    if content_type in FORM_TYPES:
        for key, values in request.POST.lists():
            _check(key, "form field name")
            for value in values:
                _check(value, f"form.{key}")
    elif content_type == "application/json" or content_type.endswith("+json"):
        try:
            document = json.loads(request.body)
        except (ValueError, UnicodeDecodeError):
            return  # not JSON at all: the view answers that (ninja: 400 "Cannot parse")
        for value, location in _json_strings(document, "body"):
            _check(value, location)


def _drop_bad_cookies(request: HttpRequest) -> None:
    for name, value in list(request.COOKIES.items()):
        if problem_with(name) or problem_with(value):
            del request.COOKIES[name]


def refusal(request: HttpRequest, error: InvalidInput) -> HttpResponse:
    response: HttpResponse
    if request.path_info.startswith(API_PREFIX):
        response = JsonResponse(
            {
                "error": {
                    "code": error.code,
                    "message": f"{error.message} Send text without NUL characters or "
                    "unpaired surrogates.",
                    "location": error.location,
                }
            },
            status=400,
        )
    else:
        message = (
            f"Part of this request ({error.location}) {_WORDS.get(error.code[8:], 'is invalid')}, "
            "so we could not read it. If you followed a link, it may have been damaged: "
            "try typing the address again, or start from the front page."
        )
        response = HttpResponse(render_to_string("400.html", {"message": message}), status=400)
    response["Cache-Control"] = "no-store"
    return response


class InvalidInputMiddleware:
    """Placed before everything that reads the request (sessions, static files, views)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        _drop_bad_cookies(request)
        try:
            check_request(request)
        except InvalidInput as error:
            return refusal(request, error)
        except (RequestDataTooBig, TooManyFieldsSent):
            too_big = InvalidInput("invalid_too_large", "body", "The request body is too large.")
            return refusal(request, too_big)
        return self.get_response(request)
