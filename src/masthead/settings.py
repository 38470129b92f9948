"""Masthead settings: one module, read from the environment.

Defaults run the demo with nothing but Python (SQLite under var/, in-process cache, the
built-in test payment provider, e-mail to files). Production sets MASTHEAD_ENV=production,
DATABASE_URL, REDIS_URL and a real SECRET_KEY; `masthead check` refuses unsafe values.
Every variable is listed in .env.example.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import dj_database_url

SRC_DIR = Path(__file__).resolve().parent
BASE_DIR = Path(os.environ.get("MASTHEAD_HOME", SRC_DIR.parent.parent)).resolve()
VAR_DIR = Path(os.environ.get("MASTHEAD_VAR_DIR", BASE_DIR / "var")).resolve()

DEFAULT_SECRET_KEY = "masthead-demo-insecure-secret-key-change-me"


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    if value.lower() in {"1", "true", "yes", "on"}:
        return True
    if value.lower() in {"0", "false", "no", "off"}:
        return False
    raise ValueError(f"{name} must be a boolean (true/false), got {value!r}")


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError as exc:
        raise ValueError(f"{name} must be an integer, got {value!r}") from exc


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


MASTHEAD_ENV = env_str("MASTHEAD_ENV", "development")
PRODUCTION = MASTHEAD_ENV == "production"
# Off unless asked for: the demo runs like production (no tracebacks, hashed static files).
DEBUG = env_bool("DEBUG", False)
SECRET_KEY = env_str("SECRET_KEY", DEFAULT_SECRET_KEY)
ALLOWED_HOSTS = env_list(
    "ALLOWED_HOSTS", [] if PRODUCTION else ["127.0.0.1", "localhost", "testserver"]
)
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

SITE_NAME = env_str("MASTHEAD_SITE_NAME", "The Meridian Review")
# The one base URL of every absolute link (e-mails, feeds, API, structured data). Unset, it
# is where `masthead demo`/`masthead serve` listen (HOST and PORT), so demo links work as served.
_SERVED_AT = f"http://{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8000')}"
SITE_URL = env_str("MASTHEAD_SITE_URL", _SERVED_AT).rstrip("/")
# The demo clock (`masthead clock advance 31d`) is refused in production.
DEMO_CLOCK_ENABLED = env_bool("MASTHEAD_DEMO_CLOCK", not PRODUCTION)

INSTALLED_APPS = [
    "masthead.core",
    "masthead.newsroom",
    "masthead.experiments",
    "masthead.metering",
    "masthead.access",
    "masthead.subscriptions",
    "masthead.billing",
    "masthead.accounts",
    "masthead.gifts",
    "masthead.giftsubs",
    "masthead.groups",
    "masthead.api",
    "masthead.audit",
    "masthead.insights",
    "wagtail.contrib.forms",
    "wagtail.contrib.redirects",
    "wagtail.contrib.settings",
    "wagtail.contrib.sitemaps",
    "wagtail.sites",
    "wagtail.users",
    "wagtail.snippets",
    "wagtail.documents",
    "wagtail.images",
    "wagtail.search",
    "wagtail.admin",
    "wagtail",
    "modelcluster",
    "taggit",
    "django_filters",
    "allauth",
    "allauth.account",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.sitemaps",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
]

MIDDLEWARE = [
    # Request id, JSON access line, latency metric and the security headers (CSP included,
    # computed by masthead.core.headers.apply_headers); outermost so every response has them.
    "masthead.core.requestlog.RequestContextMiddleware",
    "masthead.core.headers.CSPMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # NUL characters and unpaired surrogates anywhere in a request are a 400, before anything
    # (static files, sessions, views) can pass them to the database.
    "masthead.core.middleware.InvalidInputMiddleware",
    # Outside every middleware that sets a cookie: a response that sets one is never public.
    "masthead.core.cdn.SharedCacheGuard",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Per-client limits on search, API reads and token creation (docs/operations.md).
    "masthead.core.ratelimit.RateLimitMiddleware",
    # HTML (static files are pre-compressed by WhiteNoise); see decisions/0022.
    "django.middleware.gzip.GZipMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    # Django's, moving sessions of Django's backends to ours (decisions/0025).
    "masthead.accounts.middleware.AuthenticationMiddleware",
    # Signs out sessions older than the reader's last "log out everywhere".
    "masthead.accounts.middleware.SessionEpochMiddleware",
    # A signed-in reader's pages, and account/checkout pages, are private and no-store.
    "masthead.accounts.middleware.ReaderPagesMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "masthead.metering.middleware.ReaderIdentityMiddleware",
    "wagtail.contrib.redirects.middleware.RedirectMiddleware",
]

ROOT_URLCONF = "masthead.urls"
WSGI_APPLICATION = "masthead.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [SRC_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.debug",
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "wagtail.contrib.settings.context_processors.settings",
                "masthead.core.context_processors.site",
                "masthead.access.context_processors.campaign",
                "masthead.subscriptions.context_processors.standing",
            ],
        },
    },
]

DATABASE_URL = env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'masthead.sqlite3'}")
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60)}
USING_POSTGRES = DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"
if not USING_POSTGRES:
    # WAL lets the demo server read while a request writes; a busy timeout instead of
    # "database is locked" under a few concurrent writers.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0
else:
    INSTALLED_APPS.append("django.contrib.postgres")
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env_str("REDIS_URL", "")
# The test suite on several pytest-xdist workers: each worker uses a Redis database of its own
# (the given one for gw0, the next for gw1, ...), since a test's `cache.clear()` empties a
# whole database. Decided here because Django reads these settings before any conftest runs.
_XDIST_WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")
if REDIS_URL and _XDIST_WORKER.startswith("gw") and _XDIST_WORKER[2:].isdigit():
    _base, _, _database = REDIS_URL.rpartition("/")
    if _base.startswith("redis") and _database.isdigit():
        REDIS_URL = f"{_base}/{int(_database) + int(_XDIST_WORKER[2:])}"
# Prefix for every Redis key Masthead writes, so several sites (or test runs) share a server.
REDIS_KEY_PREFIX = env_str("MASTHEAD_REDIS_PREFIX", "masthead")
# Seconds a Redis call may take before the cache (or the meter) counts Redis as down.
REDIS_TIMEOUT = float(env_str("MASTHEAD_REDIS_TIMEOUT", "0.25"))
if REDIS_URL:
    CACHES = {
        "default": {
            # An unreachable Redis is a cache miss, logged once per outage, never a 500.
            "BACKEND": "masthead.core.cache.ResilientRedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": REDIS_KEY_PREFIX,
            "OPTIONS": {
                "socket_timeout": REDIS_TIMEOUT,
                "socket_connect_timeout": REDIS_TIMEOUT,
            },
        }
    }
else:
    # Per process: nothing in it is trusted across processes without the site generation,
    # which then lives in the database (masthead.core.generation).
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Sessions live in the database; with Redis they are also cached there, so a Redis outage or
# restart signs nobody out. Without Redis the cache is per process and would keep a session
# another process has ended, so sessions are read from the database alone.
SESSION_ENGINE = (
    "django.contrib.sessions.backends.cached_db"
    if REDIS_URL
    else "django.contrib.sessions.backends.db"
)

# Django's and allauth's, with the signed-in user kept in the shared cache (decisions/0025).
AUTHENTICATION_BACKENDS = [
    "masthead.accounts.backends.ModelBackend",
    "masthead.accounts.backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = env_str("LANGUAGE_CODE", "en-us")
LANGUAGES = [("en", "English"), ("ru", "Russian")]
LOCALE_PATHS = [SRC_DIR / "locale"]
TIME_ZONE = env_str("TIME_ZONE", "America/New_York")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(VAR_DIR / "static")))
# The site-wide assets (site.css, favicon) live in the package, not in one app.
STATICFILES_DIRS = [SRC_DIR / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(VAR_DIR / "media")))
# `masthead serve` collects static files and turns this on; tests and runserver use finders.
HASHED_STATIC = env_bool("MASTHEAD_HASHED_STATIC", PRODUCTION)
WHITENOISE_USE_FINDERS = not HASHED_STATIC
# ---- Media: local disk, or an S3-compatible bucket that every instance shares ---------------
# Wagtail's originals and renditions go through the default storage, so both land in the
# bucket. docs/operations.md, "Media".
MEDIA_S3_BUCKET = env_str("MASTHEAD_MEDIA_S3_BUCKET", "")
MEDIA_S3_CUSTOM_DOMAIN = env_str("MASTHEAD_MEDIA_S3_CUSTOM_DOMAIN", "")
# Several instances may share local media only when MEDIA_ROOT is one shared filesystem (NFS).
MEDIA_SHARED_FILESYSTEM = env_bool("MASTHEAD_MEDIA_SHARED_FILESYSTEM", False)


def media_storage() -> dict[str, object]:
    """The default storage: django-storages' S3 backend when a bucket is set, else the disk."""
    if not MEDIA_S3_BUCKET:
        return {"BACKEND": "django.core.files.storage.FileSystemStorage"}
    options: dict[str, object] = {
        "bucket_name": MEDIA_S3_BUCKET,
        "endpoint_url": env_str("MASTHEAD_MEDIA_S3_ENDPOINT_URL", "") or None,
        "region_name": env_str("MASTHEAD_MEDIA_S3_REGION", "") or None,
        "access_key": env_str("MASTHEAD_MEDIA_S3_ACCESS_KEY_ID", "") or None,
        "secret_key": env_str("MASTHEAD_MEDIA_S3_SECRET_ACCESS_KEY", "") or None,
        "custom_domain": MEDIA_S3_CUSTOM_DOMAIN or None,
        "location": env_str("MASTHEAD_MEDIA_S3_PREFIX", ""),
        # Public media: plain URLs (the bucket or the CDN in front allows reading); signed,
        # expiring URLs would change on every page and defeat every cache in front.
        "querystring_auth": env_bool("MASTHEAD_MEDIA_S3_SIGNED_URLS", False),
        # Never overwrite: a new upload with the same name gets a new key, so cached
        # renditions are never replaced under a CDN.
        "file_overwrite": False,
        "default_acl": None,
        "object_parameters": {"CacheControl": "public, max-age=31536000, immutable"},
    }
    return {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": options}


# The app serves uploaded images itself only in the demo and small development set-ups;
# production puts nginx, the bucket or a CDN in front (docs/deploying.md).
SERVE_MEDIA = env_bool("MASTHEAD_SERVE_MEDIA", not PRODUCTION and not MEDIA_S3_BUCKET)
if MEDIA_S3_CUSTOM_DOMAIN:
    MEDIA_URL = f"https://{MEDIA_S3_CUSTOM_DOMAIN}/"
STORAGES = {
    "default": media_storage(),
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if HASHED_STATIC
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
WHITENOISE_MAX_AGE = 3600

EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.filebased.EmailBackend")
EMAIL_FILE_PATH = VAR_DIR / "mail"
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "newsroom@example.com")
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 20)

# ---- Background tasks, scheduler and e-mail delivery (docs/jobs.md) -------------------------
# Django's Tasks API through the django-tasks backport. "database" (default) keeps the queue in
# the site's database (django-tasks-db; `masthead worker` runs it, `masthead demo` starts one);
# "redis" puts it on Redis through RQ (django-tasks-rq) for scale; "immediate" runs each task
# as it is enqueued (tests). E-mail always goes through the outbox (masthead.core.mail).
TASKS_BACKEND = env_str("MASTHEAD_TASKS_BACKEND", "database")
TASKS_REDIS_URL = env_str("MASTHEAD_TASKS_REDIS_URL", REDIS_URL)
INSTALLED_APPS += ["django_tasks", "django_tasks_db"]
if TASKS_BACKEND == "redis":
    INSTALLED_APPS.append("django_rq")
    RQ_QUEUES = {"default": {"URL": TASKS_REDIS_URL or "redis://127.0.0.1:6379/0"}}
    TASKS = {"default": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": ["default"]}}
elif TASKS_BACKEND == "immediate":
    TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
else:
    TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}
# How often each `masthead worker` runs the scheduler tick (due items are enqueued once
# cluster-wide whatever the number of workers).
SCHEDULER_INTERVAL = env_int("MASTHEAD_SCHEDULER_INTERVAL", 60)
# A failed task is retried after base, 2 x base, 4 x base, ... seconds (at most an hour).
TASK_RETRY_BASE_SECONDS = float(env_str("MASTHEAD_TASK_RETRY_BASE_SECONDS", "30"))
# Instances of the app (web containers, machines); with WEB_CONCURRENCY it tells `masthead
# check` whether per-process state (SQLite, LocMem cache) would be shared by several processes.
WEB_CONCURRENCY = env_int("WEB_CONCURRENCY", 0)  # 0: `masthead serve` picks one per core
APP_INSTANCES = env_int("MASTHEAD_INSTANCES", 1)
# django-anymail: EMAIL_BACKEND=anymail.backends.<esp>.EmailBackend and its settings as
# ANYMAIL_<NAME> variables (e.g. ANYMAIL_POSTMARK_SERVER_TOKEN), read into ANYMAIL here.
ANYMAIL = {
    name.removeprefix("ANYMAIL_"): value
    for name, value in os.environ.items()
    if name.startswith("ANYMAIL_")
}
# ---- end of background tasks block ---------------------------------------------------------
# ---- Renewal compliance (docs/renewals.md, decision 0032) -----------------------------------
# A notice before each auto-renewal of a yearly plan: sent when the renewal is at most MAX days
# away (at once if the subscription starts inside the window); the law asks for 15 to 45 days.
RENEWAL_NOTICE_MIN_DAYS = env_int("MASTHEAD_RENEWAL_NOTICE_MIN_DAYS", 15)
RENEWAL_NOTICE_MAX_DAYS = env_int("MASTHEAD_RENEWAL_NOTICE_MAX_DAYS", 45)
if not 0 <= RENEWAL_NOTICE_MIN_DAYS <= RENEWAL_NOTICE_MAX_DAYS:
    raise ValueError("MASTHEAD_RENEWAL_NOTICE_MIN_DAYS must be between 0 and the MAX days")
# Monthly plans get no renewal notice (the law's rule is for terms of a year or more).
RENEWAL_NOTICE_MONTHLY = env_bool("MASTHEAD_RENEWAL_NOTICE_MONTHLY", False)
# A new plan price applies to a subscriber from their first renewal at least this many days
# after their price-change notice.
PRICE_CHANGE_NOTICE_DAYS = env_int("MASTHEAD_PRICE_CHANGE_NOTICE_DAYS", 30)
# Gift subscriptions (docs/gift-subscriptions.md): the reminder before a gift ends, how long
# an unredeemed gift's code works (then its sale is recognised as breakage), and the code of
# the Offer that only former gift recipients may take.
GIFT_REMINDER_DAYS = env_int("MASTHEAD_GIFT_REMINDER_DAYS", 7)
GIFT_CODE_VALID_DAYS = env_int("MASTHEAD_GIFT_CODE_VALID_DAYS", 365)
GIFT_CONVERSION_OFFER = os.environ.get("MASTHEAD_GIFT_CONVERSION_OFFER", "gift-conversion")
# Retention (docs/retention.md, decision 0035): the save offers' gates, the pause bounds and
# the win-back offer and e-mail. Tenure is whole months since the subscription started; no
# save offer is made to a reader who accepted one in the last COOLDOWN months.
SAVE_OFFER_COOLDOWN_MONTHS = env_int("MASTHEAD_SAVE_OFFER_COOLDOWN_MONTHS", 12)
# The save-offer rules, in order: the first whose reasons include the reader's (an empty list:
# any reason, or none), whose tenure the reader has and whose offer applies to their
# subscription is the one shown (masthead.subscriptions.retention). Offers: "pause",
# "downgrade", "discount" (percent off the next `renewals` renewals), "free_month".
SAVE_OFFER_RULES: list[dict[str, object]] = [
    {"offer": "pause", "reasons": ["taking_a_break", "not_reading"], "min_tenure_months": 2},
    {"offer": "downgrade", "reasons": ["too_expensive"], "min_tenure_months": 3},
    {
        "offer": "discount",
        "reasons": ["too_expensive"],
        "min_tenure_months": 6,
        "percent": 50,
        "renewals": 3,
    },
    {"offer": "free_month", "reasons": [], "min_tenure_months": 12},
    {"offer": "pause", "reasons": [], "min_tenure_months": 6},
]
PAUSE_MAX_MONTHS = env_int("MASTHEAD_PAUSE_MAX_MONTHS", 3)
if not 1 <= PAUSE_MAX_MONTHS <= 12:
    raise ValueError("MASTHEAD_PAUSE_MAX_MONTHS must be between 1 and 12")
WINBACK_OFFER = os.environ.get("MASTHEAD_WINBACK_OFFER", "welcome-back")
WINBACK_EMAIL_DAYS = env_int("MASTHEAD_WINBACK_EMAIL_DAYS", 30)
# Dunning (docs/dunning.md, decision 0038): the failed-payment e-mails, sent on these days after
# the first failed payment of an episode (day 0 is the failure itself), each once; the last
# one says when access ends. Every day must come before the last payment retry (day 6, the
# retry schedule in subscriptions/models.py RETRY_DELAYS): a day at or after it is never sent.
try:
    DUNNING_DAYS = [int(day) for day in env_list("MASTHEAD_DUNNING_DAYS", ["0", "3", "5"])]
except ValueError as exc:
    raise ValueError("MASTHEAD_DUNNING_DAYS must be whole days, e.g. 0,3,5") from exc
if not DUNNING_DAYS or sorted(set(DUNNING_DAYS)) != DUNNING_DAYS or DUNNING_DAYS[0] < 0:
    raise ValueError("MASTHEAD_DUNNING_DAYS must be distinct ascending days from 0, e.g. 0,3,5")
# The card-expiry reminder goes this many days before the card's expiry (the end of its
# expiry month), once per card and expiry, to a renewing subscriber.
CARD_EXPIRY_REMINDER_DAYS = env_int("MASTHEAD_CARD_EXPIRY_REMINDER_DAYS", 30)

# Reader cookies: Secure whenever we are not on the demo's plain http.
SECURE_COOKIES = env_bool("SECURE_COOKIES", PRODUCTION)
SESSION_COOKIE_SECURE = SECURE_COOKIES
CSRF_COOKIE_SECURE = SECURE_COOKIES
SESSION_COOKIE_SAMESITE = "Lax"
READER_COOKIE_NAME = "mh_reader"
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_X_FORWARDED_PROTO", "https") if env_bool("BEHIND_TLS_PROXY", False) else None
)
# ---- Operations: TLS, headers, health, logs, errors, metrics, rate limits (docs/operations.md)
# Behind TLS (off in the demo): redirect http to https and send HSTS. Health, readiness and
# metrics stay reachable over plain http for a load balancer or scraper on the private side.
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", False)
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
# Proxies whose X-Forwarded-For and X-Request-ID are believed (addresses or CIDR networks).
TRUSTED_PROXIES = env_list("MASTHEAD_TRUSTED_PROXIES", [])
# Readiness: a queue worker must have beaten within this many seconds.
READY_WORKER_SECONDS = env_int("MASTHEAD_READY_WORKER_SECONDS", 300)
# Logs: "json" (one object per line) or "plain"; the access line (one per request) is on in
# production.
LOG_FORMAT = env_str("MASTHEAD_LOG_FORMAT") or ("json" if PRODUCTION else "plain")
if LOG_FORMAT not in {"json", "plain"}:
    raise ValueError(f"MASTHEAD_LOG_FORMAT must be json or plain, got {LOG_FORMAT!r}")
ACCESS_LOG = env_bool("MASTHEAD_ACCESS_LOG", PRODUCTION)
# Errors go to Sentry (or a compatible service) when a DSN is set.
SENTRY_DSN = env_str("SENTRY_DSN", "")
SENTRY_ENVIRONMENT = env_str("SENTRY_ENVIRONMENT") or MASTHEAD_ENV
SENTRY_RELEASE = env_str("SENTRY_RELEASE", "")
SENTRY_TRACES_SAMPLE_RATE = float(env_str("SENTRY_TRACES_SAMPLE_RATE") or "0")
# /metrics answers only a bearer token or an allowed address; 404 to everyone else.
METRICS_TOKEN = env_str("MASTHEAD_METRICS_TOKEN", "")
METRICS_ALLOWED_IPS = env_list("MASTHEAD_METRICS_ALLOWED_IPS", [])
# Several processes (granian workers, the task worker) share counters through this directory
# (prometheus_client's multiprocess mode); `masthead serve` sets and empties it at start.
METRICS_DIR = env_str("PROMETHEUS_MULTIPROC_DIR", "")
# Rate limits per client, "requests/seconds"; "off" turns one off.
RATE_LIMITS = {
    "search": env_str("MASTHEAD_RATE_LIMIT_SEARCH") or "30/60",
    "api_read": env_str("MASTHEAD_RATE_LIMIT_API_READ") or "120/60",
    "api_token": env_str("MASTHEAD_RATE_LIMIT_API_TOKEN") or "10/60",
    # Per personal token (its feed and its API calls together), whatever the address.
    "personal_token": env_str("MASTHEAD_RATE_LIMIT_PERSONAL_TOKEN") or "60/3600",
}
# Personal tokens (docs/personal-tokens.md): how many live ones a reader may hold, and how
# many distinct addresses may fetch one token within the window before it is throttled as
# shared (and flagged on the owner's account page).
PERSONAL_TOKEN_LIMIT = env_int("MASTHEAD_PERSONAL_TOKEN_LIMIT", 5)
PERSONAL_TOKEN_MAX_ADDRESSES = env_int("MASTHEAD_PERSONAL_TOKEN_MAX_ADDRESSES", 4)
PERSONAL_TOKEN_ADDRESS_WINDOW = env_int("MASTHEAD_PERSONAL_TOKEN_ADDRESS_WINDOW", 86400)
# Content-Security-Policy (django-csp): nothing inline on the site, so no 'unsafe-inline';
# JSON-LD blocks are data, which CSP does not govern. The admin's policy is in core.headers.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}
PERMISSIONS_POLICY = env_str("MASTHEAD_PERMISSIONS_POLICY") or (
    "accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), "
    "microphone=(), payment=(self), usb=()"
)
# ---- end of operations block ---------------------------------------------------------------

# Shared caches (a CDN, nginx, Varnish): pages the same for every signed-out reader are sent
# public with these lifetimes (masthead.core.cdn); publishing purges them through Wagtail's
# frontend cache invalidation when MASTHEAD_PURGE_URL names a PURGE endpoint.
CACHE_MAX_AGE = env_int("MASTHEAD_CACHE_MAX_AGE", 60)
CACHE_S_MAXAGE = env_int("MASTHEAD_CACHE_S_MAXAGE", 300)
CACHE_STALE_WHILE_REVALIDATE = env_int("MASTHEAD_CACHE_STALE_WHILE_REVALIDATE", 60)
PURGE_URL = env_str("MASTHEAD_PURGE_URL", "")
PURGE_TIMEOUT = float(env_str("MASTHEAD_PURGE_TIMEOUT", "5"))
WAGTAILFRONTENDCACHE = (
    {
        "default": {
            "BACKEND": "masthead.core.cdn.PurgeBackend",
            "LOCATION": PURGE_URL,
            "TIMEOUT": PURGE_TIMEOUT,
        }
    }
    if PURGE_URL
    else {}
)

# Wagtail
WAGTAIL_SITE_NAME = SITE_NAME
WAGTAILADMIN_BASE_URL = SITE_URL
WAGTAILSEARCH_BACKENDS = {
    "default": {
        "BACKEND": "wagtail.search.backends.database",
        "AUTO_UPDATE": True,
    }
}
# Reader search (newsroom.search): PostgreSQL's text search configuration, i.e. the language
# its stemmer uses (SQLite's FTS5 porter tokenizer is English only).
SEARCH_CONFIG = env_str("MASTHEAD_SEARCH_CONFIG", "english")
WAGTAILIMAGES_MAX_UPLOAD_SIZE = 10 * 1024 * 1024
WAGTAILIMAGES_MAX_IMAGE_PIXELS = 64_000_000
WAGTAILDOCS_EXTENSIONS = ["csv", "pdf", "txt"]
WAGTAIL_I18N_ENABLED = False
WAGTAILADMIN_LOGIN_URL = "/admin/login/"
WAGTAIL_ALLOW_UNICODE_SLUGS = False
WAGTAILIMAGES_EXTENSIONS = ["gif", "jpg", "jpeg", "png", "webp"]
# The admin calls no third party: no Gravatar (it would send a hash of each editor's e-mail)
# and no release check, so its Content-Security-Policy needs no outside origin.
WAGTAIL_GRAVATAR_PROVIDER_URL = None
WAGTAIL_ENABLE_UPDATE_CHECK = False

# django-allauth: readers sign in by e-mail.
LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/"
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_EMAIL_VERIFICATION = env_str("ACCOUNT_EMAIL_VERIFICATION", "optional")
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_USER_MODEL_USERNAME_FIELD = "username"
ACCOUNT_LOGIN_BY_CODE_ENABLED = True
ACCOUNT_RATE_LIMITS = {"login_failed": "5/5m/ip,5/5m/key"}
ACCOUNT_LOGOUT_ON_GET = False
ACCOUNT_ADAPTER = "masthead.accounts.adapter.ReaderAccountAdapter"

# Payments
PAYMENT_PROVIDER = env_str("PAYMENT_PROVIDER", "test")
STRIPE_SECRET_KEY = env_str("STRIPE_SECRET_KEY", "")
STRIPE_PUBLISHABLE_KEY = env_str("STRIPE_PUBLISHABLE_KEY", "")
STRIPE_WEBHOOK_SECRET = env_str("STRIPE_WEBHOOK_SECRET", "")
STRIPE_API_BASE = env_str("STRIPE_API_BASE", "")
# Events carrying an `account` are refused unless it is this one (Stripe Connect set-ups).
STRIPE_ACCOUNT_ID = env_str("STRIPE_ACCOUNT_ID", "")

SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "strict-origin-when-cross-origin"
DATA_UPLOAD_MAX_NUMBER_FIELDS = 10_000


def _without_traceback(record: logging.LogRecord) -> bool:
    """Bad input (a wrong Host header, a forged signature) is one log line, not a traceback."""
    record.exc_info = None
    record.exc_text = None
    return True


LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
        "json": {"()": "masthead.core.requestlog.JsonFormatter"},
    },
    "filters": {
        "request_context": {"()": "masthead.core.requestlog.RequestContextFilter"},
        "without_traceback": {
            "()": "django.utils.log.CallbackFilter",
            "callback": _without_traceback,
        },
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT,
            "filters": ["request_context"],
        },
        "console_one_line": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT,
            "filters": ["request_context", "without_traceback"],
        },
    },
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "WARNING")},
    "loggers": {
        "django.security": {
            "handlers": ["console_one_line"],
            "level": "WARNING",
            "propagate": False,
        },
        "masthead": {
            "handlers": ["console"],
            "level": env_str("LOG_LEVEL", "INFO"),
            "propagate": False,
        },
    },
}

if SENTRY_DSN:
    from masthead.core.errors import init_sentry

    init_sentry(
        SENTRY_DSN,
        environment=SENTRY_ENVIRONMENT,
        release=SENTRY_RELEASE,
        traces_sample_rate=SENTRY_TRACES_SAMPLE_RATE,
    )

# The signed-in reader's latest subscription in the shared cache (decision 0025), with Redis.
# MASTHEAD_CACHE_SUBSCRIPTIONS=false reads it from the database on every request (one query).
CACHE_SUBSCRIPTIONS = env_str("MASTHEAD_CACHE_SUBSCRIPTIONS", "true").lower() in {
    "1",
    "true",
    "yes",
}

# Reader-revenue insights (docs/insights.md, decision 0030): funnel events are buffered (Redis
# list, or batches into the database's buffer table) and drained into masthead.insights.
INSIGHTS_ENABLED = env_bool("MASTHEAD_INSIGHTS", True)
# The Redis holding the event buffer (default: REDIS_URL; none: the database's buffer table).
INSIGHTS_REDIS_URL = env_str("MASTHEAD_INSIGHTS_REDIS_URL", REDIS_URL)
INSIGHTS_BATCH = env_int("MASTHEAD_INSIGHTS_BATCH", 50)
INSIGHTS_BATCH_SECONDS = float(env_str("MASTHEAD_INSIGHTS_BATCH_SECONDS", "2"))
INSIGHTS_BUFFER_MAX = env_int("MASTHEAD_INSIGHTS_BUFFER_MAX", 1_000_000)
INSIGHTS_DRAIN_BATCH = env_int("MASTHEAD_INSIGHTS_DRAIN_BATCH", 5_000)
INSIGHTS_RETENTION_DAYS = env_int("MASTHEAD_INSIGHTS_RETENTION_DAYS", 90)
