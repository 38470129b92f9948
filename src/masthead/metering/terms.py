"""What the machine policy says, in the forms machines read: robots.txt groups with Content
Signals (contentsignals.org) and the terms document served at /machine-access.json.

Both are worked out from the staff-edited `MeterPolicy` and the agent table
(`metering.machines.AGENTS`); the views only put them on the wire (`newsroom.views`).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings

from masthead.metering.machines import AGENTS, Category, tokens
from masthead.metering.models import MeterPolicy

TERMS_JSON = "/machine-access.json"
TERMS_PAGE = "/machine-access/"

# What every crawler is kept out of, allowed or not (nothing there is for indexing).
ALWAYS_DISALLOWED = (
    "/admin/",
    "/django-admin/",
    "/accounts/",
    "/search/",
    "/*/print/$",
)

MEANINGS = {
    "search": (
        "Building a search index and showing search results that link to the article "
        "(titles and short excerpts), not AI-generated answers."
    ),
    "ai-input": (
        "Using articles as input to an AI model to answer a question now: retrieval, "
        "grounding, AI-generated answers and summaries."
    ),
    "ai-train": "Training or fine-tuning AI models on the articles.",
}

_CATEGORY_SIGNAL = {
    Category.SEARCH: "search",
    Category.ANSWER: "ai-input",
    Category.TRAINING: "ai-train",
}


def signals(policy: MeterPolicy) -> dict[str, bool]:
    """The three Content Signals, as the policy sets them."""
    return {
        "search": policy.allow_search,
        "ai-input": policy.allow_ai_input,
        "ai-train": policy.allow_ai_train,
    }


def content_signal(policy: MeterPolicy) -> str:
    """`search=yes, ai-input=no, ai-train=no`: the value of a robots.txt Content-Signal line."""
    return ", ".join(f"{name}={'yes' if on else 'no'}" for name, on in signals(policy).items())


def allowed(category: Category, policy: MeterPolicy) -> bool:
    signal = _CATEGORY_SIGNAL.get(category)
    return signal is not None and signals(policy)[signal]


def contact_kind(contact: str) -> str:
    return "url" if contact.startswith(("http://", "https://")) else "email"


def robots_txt(policy: MeterPolicy, root: str) -> str:
    """robots.txt for the site at `root` (scheme and host, no trailing slash)."""
    signal = f"Content-Signal: {content_signal(policy)}"
    base = [f"Disallow: {path}" for path in ALWAYS_DISALLOWED]
    lines = [
        "# Terms for search engines, AI answer engines and AI training (machine-readable):",
        f"# {root}{TERMS_JSON} (for people: {root}{TERMS_PAGE})",
        "# Content-Signal (https://contentsignals.org/): search = search results that link",
        "# here; ai-input = input to AI answers (retrieval, grounding); ai-train = training",
        "# or fine-tuning AI models. Gated articles answer automated clients the policy does",
        "# not allow with the preview only and HTTP 402.",
    ]
    if policy.licensing_contact:
        lines.append(f"# Licensing: {policy.licensing_contact}")
    lines += ["", "User-agent: *", signal, *base, ""]
    headings = {
        Category.SEARCH: "Search engines (search)",
        Category.ANSWER: "AI answer engines and assistants (ai-input)",
        Category.TRAINING: "AI training crawlers (ai-train)",
    }
    for category, heading in headings.items():
        on = allowed(category, policy)
        lines.append(f"# {heading}: {'allowed' if on else 'not allowed'}")
        lines += [f"User-agent: {token}" for token in tokens(category)]
        lines.append(signal)
        lines += base if on else ["Disallow: /"]
        lines.append("")
    lines += [f"Sitemap: {root}/sitemap.xml", f"Sitemap: {root}/news-sitemap.xml", ""]
    return "\n".join(lines)


def machine_terms(policy: MeterPolicy, root: str) -> dict[str, Any]:
    """The document at /machine-access.json."""
    contact = policy.licensing_contact
    return {
        "version": 1,
        "site": {"name": settings.SITE_NAME, "url": f"{root}/"},
        "signals": {name: "yes" if on else "no" for name, on in signals(policy).items()},
        "content_signal": content_signal(policy),
        "meaning": MEANINGS,
        "gated_articles": {
            "automated_clients": (
                "An automated client the signals do not allow, or that does not identify "
                "itself, receives the preview of a subscribers-only or metered article with "
                "HTTP 402 Payment Required and a Link header pointing here; never the text. "
                "The apps API answers the same request with the error code automated_client."
            ),
            "verified_search_crawlers": (
                "Search crawlers verified by reverse and forward DNS read gated articles in "
                "full when the publisher offers flexible sampling and search is allowed."
            )
            if policy.crawlers_read_in_full and policy.allow_search
            else "Search crawlers, when search is allowed, read as any signed-out reader does.",
            "status": 402,
            "api_error_code": "automated_client",
        },
        "licensing": {"contact": contact, "kind": contact_kind(contact)} if contact else None,
        "agents": [
            {
                "token": agent.token,
                "category": str(agent.category),
                "operator": agent.operator,
                "docs": agent.docs,
                "allowed": allowed(agent.category, policy),
            }
            for agent in AGENTS
        ],
        "terms": f"{root}{TERMS_PAGE}",
        "robots": f"{root}/robots.txt",
    }
