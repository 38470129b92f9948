"""The Python floor: the smallest Django app that serves the saved article page.

One view, no middleware, no database: it GETs the saved copy from Redis (one round trip) and
returns it. Served by granian (WSGI) with the same workers as `masthead serve`, it is what
the article page would cost if everything but one cache read were done at publish time.

    FLOOR_REDIS_URL=redis://127.0.0.1:6379/15 FLOOR_PAGE_KEY=... \
        granian --interface wsgi --working-dir bench floor_app:application
"""

from __future__ import annotations

import os

import django
import redis
from django.conf import settings

settings.configure(
    DEBUG=False,
    SECRET_KEY="bench-floor-app-serves-one-saved-page",
    ALLOWED_HOSTS=["127.0.0.1"],
    ROOT_URLCONF=__name__,
    MIDDLEWARE=[],
    INSTALLED_APPS=[],
    USE_I18N=False,
    LOGGING_CONFIG=None,
)
django.setup()

from django.core.wsgi import get_wsgi_application  # noqa: E402  (needs settings first)
from django.http import HttpRequest, HttpResponse  # noqa: E402
from django.urls import re_path  # noqa: E402

PAGE_STORE = redis.Redis.from_url(os.environ["FLOOR_REDIS_URL"])
PAGE_KEY = os.environ["FLOOR_PAGE_KEY"]
CONTENT_TYPE = os.environ.get("FLOOR_CONTENT_TYPE", "text/html; charset=utf-8")


def saved_page(request: HttpRequest) -> HttpResponse:
    page = PAGE_STORE.get(PAGE_KEY)
    if page is None:
        return HttpResponse(
            f"No saved page at Redis key {PAGE_KEY}.", status=503, content_type="text/plain"
        )
    response = HttpResponse(page, content_type=CONTENT_TYPE)
    # Like the article page (CommonMiddleware sets it there): a sized body, not chunks.
    response["Content-Length"] = str(len(page))
    return response


urlpatterns = [re_path(r"", saved_page)]
application = get_wsgi_application()
