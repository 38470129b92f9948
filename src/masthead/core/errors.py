"""Error reporting through sentry-sdk (or any Sentry-compatible service), when SENTRY_DSN is set.

No personal data leaves: `send_default_pii` is off (no user, no IP, no cookies, no request
body of a signed-in reader), stack frames carry no local variables, and `scrub` removes what
could still carry it (cookies, the Authorization and Cookie headers, the query string, user
fields) before an event is sent.
"""

from __future__ import annotations

from typing import Any

SENSITIVE_HEADERS = {"cookie", "authorization", "x-forwarded-for", "x-real-ip"}


def scrub(event: dict[str, Any], hint: dict[str, Any] | None = None) -> dict[str, Any]:
    request = event.get("request")
    if isinstance(request, dict):
        request.pop("cookies", None)
        request.pop("data", None)
        request.pop("query_string", None)
        headers = request.get("headers")
        if isinstance(headers, dict):
            for name in list(headers):
                if name.lower() in SENSITIVE_HEADERS:
                    del headers[name]
    user = event.get("user")
    if isinstance(user, dict):
        event["user"] = {key: value for key, value in user.items() if key == "id"}
    return event


def scrub_breadcrumb(crumb: dict[str, Any], hint: dict[str, Any] | None = None) -> Any:
    """Redis commands name session and meter keys (a session key is a credential): dropped.
    Query breadcrumbs keep the SQL but never its parameters."""
    category = str(crumb.get("category") or "")
    if category.startswith("redis"):
        return None
    if category in {"query", "db"}:
        crumb.pop("data", None)
    return crumb


def init_sentry(
    dsn: str,
    *,
    environment: str,
    release: str = "",
    traces_sample_rate: float = 0.0,
    **options: Any,
) -> None:
    from importlib.metadata import PackageNotFoundError, version

    import sentry_sdk
    from sentry_sdk.integrations.django import DjangoIntegration

    try:
        default_release = f"masthead@{version('masthead')}"
    except PackageNotFoundError:
        default_release = "masthead"
    sentry_sdk.init(
        dsn=dsn,
        integrations=[DjangoIntegration()],
        send_default_pii=False,
        # Frame locals hold requests, readers and forms: personal data, so never sent.
        include_local_variables=False,
        environment=environment,
        release=release or default_release,
        traces_sample_rate=traces_sample_rate,
        before_send=scrub,  # type: ignore[arg-type]
        before_breadcrumb=scrub_breadcrumb,  # type: ignore[arg-type]
        **options,
    )


def capture(error: BaseException) -> None:
    """Report an exception a handler caught and answered (the API's JSON 500)."""
    import sentry_sdk

    sentry_sdk.capture_exception(error)
