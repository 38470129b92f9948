"""URL map. Each domain owns its own urls.py; Wagtail's page tree serves everything else."""

from django.conf import settings
from django.contrib import admin
from django.urls import URLPattern, URLResolver, include, path, re_path
from django.views.static import serve
from wagtail import urls as wagtail_urls
from wagtail.admin import urls as wagtailadmin_urls
from wagtail.documents import urls as wagtaildocs_urls

from masthead.accounts.views import personal_feed
from masthead.core import health, metrics, readiness

urlpatterns: list[URLPattern | URLResolver] = [
    path("admin/", include(wagtailadmin_urls)),
    path("django-admin/", admin.site.urls),
    path("-/health", health.view, name="health"),
    path("healthz", readiness.healthz, name="healthz"),
    path("readyz", readiness.readyz, name="readyz"),
    path("metrics", metrics.view, name="metrics"),
    path("documents/", include(wagtaildocs_urls)),
    path("api/", include("masthead.api.urls")),
    path("", include("masthead.gifts.urls")),
    path("", include("masthead.giftsubs.urls")),
    path("", include("masthead.groups.urls")),
    path("accounts/", include("masthead.accounts.urls")),
    path("accounts/", include("allauth.urls")),
    path("", include("masthead.subscriptions.checkout_urls")),
    path("", include("masthead.subscriptions.urls")),
    path("", include("masthead.access.urls")),
    path("", include("masthead.metering.urls")),
    # A reader's private full-text feed (decision 0031): before the newsroom's public feeds.
    path("feeds/private/<str:token>/", personal_feed, name="personal_feed"),
    path("", include("masthead.newsroom.urls")),
]

if settings.SERVE_MEDIA:
    # Uploaded images, for sites without a separate media server (the demo, small sites).
    urlpatterns.append(
        re_path(r"^media/(?P<path>.*)$", serve, {"document_root": settings.MEDIA_ROOT})
    )

urlpatterns.append(path("", include(wagtail_urls)))
