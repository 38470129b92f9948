"""A test-only URLconf: the real site, with responses a test may rewrite to plant a leak.

Each plant gets the request and the rendered response and may change the response; the audit
then reads the site over HTTP like any reader and must find what was planted.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.urls import re_path, resolve, set_urlconf

Plant = Callable[[HttpRequest, HttpResponse], HttpResponse | None]
PLANTS: list[Plant] = []


def planted(request: HttpRequest) -> HttpResponse:
    set_urlconf("masthead.urls")  # reverse() inside the real views sees the real URL map
    match = resolve(request.path_info, urlconf="masthead.urls")
    response = match.func(request, *match.args, **match.kwargs)
    if hasattr(response, "render") and not response.is_rendered:
        response.render()
    for plant in PLANTS:
        response = plant(request, response) or response
    return response


urlpatterns = [re_path(r"^", planted)]
