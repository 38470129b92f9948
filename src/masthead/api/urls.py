"""/api/v1/...: every route answers JSON, wrong methods and unknown paths included."""

from django.urls import URLPattern, URLResolver, path, re_path

from masthead.api.api import api
from masthead.api.errors import json_method_not_allowed, unknown_endpoint

ninja_patterns, app_name, namespace = api.urls
for pattern in ninja_patterns:
    if isinstance(pattern, URLPattern):
        pattern.callback = json_method_not_allowed(pattern.callback)

urlpatterns: list[URLPattern | URLResolver] = [
    path("v1/", (ninja_patterns, app_name, namespace)),
    re_path(r"^(?P<rest>.*)$", unknown_endpoint),
]
