"""/api/v1/...: every route answers JSON, wrong methods and unknown paths included."""

from django.http import HttpRequest, HttpResponsePermanentRedirect
from django.urls import URLPattern, URLResolver, path, re_path

from masthead.api.api import api
from masthead.api.errors import json_method_not_allowed, unknown_endpoint

# Not `app_name, namespace = ...` at module level: include() would read a module-level
# `app_name` as this module's namespace and hide "api-v1" under it, and django-ninja's
# OpenAPI view reverses "api-v1:api-root" (an HTML 500 at /api/v1/openapi.json).
_ninja_patterns, _ninja_app, _ninja_namespace = api.urls
for pattern in _ninja_patterns:
    if isinstance(pattern, URLPattern):
        pattern.callback = json_method_not_allowed(pattern.callback)


def without_trailing_slash(request: HttpRequest, rest: str) -> HttpResponsePermanentRedirect:
    """`/api/v1/articles/` (a slash, like every site URL) is `/api/v1/articles`: 308 keeps the
    method and body, and the query string is kept."""
    query = request.META.get("QUERY_STRING", "")
    response = HttpResponsePermanentRedirect(f"/api/v1/{rest}" + (f"?{query}" if query else ""))
    response.status_code = 308
    return response


urlpatterns: list[URLPattern | URLResolver] = [
    path("v1/", (_ninja_patterns, _ninja_app, _ninja_namespace)),
    re_path(r"^v1/(?P<rest>[A-Za-z0-9_/-]*[A-Za-z0-9_-])/$", without_trailing_slash),
    re_path(r"^(?P<rest>.*)$", unknown_endpoint),
]
