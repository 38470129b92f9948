"""A test-only URLconf: the real site, with responses a test may rewrite to plant a leak.

Each plant gets the request and the rendered response and may change the response; the audit
then reads the site over HTTP like any reader and must find what was planted.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotFound
from django.urls import Resolver404, include, path, re_path, resolve, set_urlconf

Plant = Callable[[HttpRequest, HttpResponse], HttpResponse | None]
PLANTS: list[Plant] = []


def planted(request: HttpRequest) -> HttpResponse:
    set_urlconf("masthead.urls")  # reverse() inside the real views sees the real URL map
    try:
        match = resolve(request.path_info, urlconf="masthead.urls")
        response = match.func(request, *match.args, **match.kwargs)
    except (Http404, Resolver404):
        response = HttpResponseNotFound("<p>Not found.</p>")
    if hasattr(response, "render") and not response.is_rendered:
        response.render()
    for plant in PLANTS:
        response = plant(request, response) or response
    return response


# Every address goes to `planted`; the real map follows so reverse() and page URLs still work.
urlpatterns = [re_path(r"^", planted), path("", include("masthead.urls"))]
