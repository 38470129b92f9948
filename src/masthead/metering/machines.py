"""Machines: the agent table, and telling a browser from a crawler, an AI agent or a script.

`AGENTS` is the maintained table of product tokens: what each crawler or agent is for
(`Category`: search, answer, training, other automated), who runs it and where its operator
documents it. robots.txt's groups are generated from it (`newsroom.views.robots_txt`), and
`classify` reads a request's User-Agent against it.

`classify(user_agent, headers, address=...)` answers a `MachineKind`:

- `VERIFIED_SEARCH`: a search crawler whose operator documents reverse and forward DNS
  verification (Googlebot, Bingbot, Applebot) and whose address passed it
  (`metering.crawlers`); the only machine a policy may let read gated text in full.
- `SEARCH`, `ANSWER`, `TRAINING`: a declared agent of that category whose claim cannot be
  verified (DuckDuckBot, GPTBot, ClaudeBot...): the policy decides whether it is granted; a
  granted one is read like any signed-out reader, never more.
- `AUTOMATED`: an unidentified automated client: no User-Agent, a library or tool (curl,
  python-requests, Go-http-client...), headless browser markers, a "bot"/"spider"/"crawler"
  token not in the table, an agent of the table's "other" category, and a UA that claims a
  verifiable search crawler but fails DNS (never trusted).
- `HUMAN`: everything else (a browser).

Cheap on the hot path: lower-casing and substring tests over a fixed table (no regular
expression, no query, no round trip) for an ordinary browser; only a claim of a verifiable
crawler costs the DNS check, whose answer is kept in the shared cache when there is one.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from masthead.metering import crawlers

if TYPE_CHECKING:
    from masthead.metering.models import MeterPolicy


class Category(enum.StrEnum):
    SEARCH = "search"  # builds a search index, links readers to the article
    ANSWER = "answer"  # fetches to answer a question now (AI assistants, answer engines)
    TRAINING = "training"  # collects text to train models
    OTHER = "other"  # declared automation no policy grants (SEO tools, archivers...)


class MachineKind(enum.StrEnum):
    HUMAN = "human"
    VERIFIED_SEARCH = "verified_search"
    SEARCH = "search"
    ANSWER = "answer"
    TRAINING = "training"
    AUTOMATED = "automated"

    @property
    def is_machine(self) -> bool:
        return self is not MachineKind.HUMAN


@dataclass(frozen=True)
class Agent:
    token: str  # the product token, as robots.txt names it
    category: Category
    operator: str
    docs: str
    # Only a robots.txt token (Google-Extended): never sent as a User-Agent.
    robots_only: bool = False


# The maintained table. Order matters for `classify` only where one token contains another
# (Applebot-Extended before Applebot): longer tokens are matched first (see `_BY_LENGTH`).
AGENTS: tuple[Agent, ...] = (
    # Search engines: build an index, send readers to the article.
    Agent(
        "Googlebot",
        Category.SEARCH,
        "Google",
        "https://developers.google.com/search/docs/crawling-indexing/googlebot",
    ),
    Agent(
        "Bingbot",
        Category.SEARCH,
        "Microsoft",
        "https://www.bing.com/webmasters/help/which-crawlers-does-bing-use-8c184ec0",
    ),
    Agent("Applebot", Category.SEARCH, "Apple", "https://support.apple.com/en-us/119829"),
    Agent(
        "DuckDuckBot",
        Category.SEARCH,
        "DuckDuckGo",
        "https://duckduckgo.com/duckduckgo-help-pages/results/duckduckbot",
    ),
    # Answer engines and AI assistants: index articles for AI answers, or fetch one to answer
    # a user's question now (what Content Signals call ai-input).
    Agent("OAI-SearchBot", Category.ANSWER, "OpenAI", "https://platform.openai.com/docs/bots"),
    Agent(
        "Claude-SearchBot",
        Category.ANSWER,
        "Anthropic",
        "https://support.anthropic.com/en/articles/8896518",
    ),
    Agent(
        "PerplexityBot",
        Category.ANSWER,
        "Perplexity",
        "https://docs.perplexity.ai/guides/bots",
    ),
    Agent("ChatGPT-User", Category.ANSWER, "OpenAI", "https://platform.openai.com/docs/bots"),
    Agent(
        "Claude-User",
        Category.ANSWER,
        "Anthropic",
        "https://support.anthropic.com/en/articles/8896518",
    ),
    Agent(
        "Perplexity-User",
        Category.ANSWER,
        "Perplexity",
        "https://docs.perplexity.ai/guides/bots",
    ),
    Agent(
        "MistralAI-User",
        Category.ANSWER,
        "Mistral AI",
        "https://docs.mistral.ai/robots",
    ),
    # Training: collect text for models.
    Agent(
        "Google-Extended",
        Category.TRAINING,
        "Google",
        "https://developers.google.com/search/docs/crawling-indexing/google-common-crawlers",
        robots_only=True,
    ),
    Agent(
        "Applebot-Extended",
        Category.TRAINING,
        "Apple",
        "https://support.apple.com/en-us/119829",
        robots_only=True,
    ),
    Agent("GPTBot", Category.TRAINING, "OpenAI", "https://platform.openai.com/docs/bots"),
    Agent(
        "ClaudeBot",
        Category.TRAINING,
        "Anthropic",
        "https://support.anthropic.com/en/articles/8896518",
    ),
    Agent("CCBot", Category.TRAINING, "Common Crawl", "https://commoncrawl.org/ccbot"),
    Agent("Bytespider", Category.TRAINING, "ByteDance", "https://bytedance.com/"),
    Agent(
        "Meta-ExternalAgent",
        Category.TRAINING,
        "Meta",
        "https://developers.facebook.com/docs/sharing/webmasters/web-crawlers",
    ),
    Agent(
        "Amazonbot",
        Category.TRAINING,
        "Amazon",
        "https://developer.amazon.com/amazonbot",
    ),
    Agent("cohere-ai", Category.TRAINING, "Cohere", "https://cohere.com/"),
    Agent("cohere-training-data-crawler", Category.TRAINING, "Cohere", "https://cohere.com/"),
    Agent("Diffbot", Category.TRAINING, "Diffbot", "https://docs.diffbot.com/docs/"),
    Agent("AI2Bot", Category.TRAINING, "Allen Institute for AI", "https://allenai.org/crawler"),
    # Declared automation no policy field grants.
    Agent("AhrefsBot", Category.OTHER, "Ahrefs", "https://ahrefs.com/robot"),
    Agent("SemrushBot", Category.OTHER, "Semrush", "https://www.semrush.com/bot/"),
    Agent("MJ12bot", Category.OTHER, "Majestic", "https://majestic.com/reports/majestic-bot"),
)

_BY_LENGTH = tuple(
    (agent.token.lower(), agent)
    for agent in sorted(AGENTS, key=lambda a: len(a.token), reverse=True)
    if not agent.robots_only
)

# What a tool or library sends as the start of its User-Agent.
_TOOL_PREFIXES = (
    "curl/",
    "wget/",
    "python-requests/",
    "python-urllib/",
    "python-httpx/",
    "python/",
    "httpx/",
    "aiohttp/",
    "go-http-client/",
    "java/",
    "apache-httpclient/",
    "okhttp/",
    "libwww-perl/",
    "lwp::",
    "scrapy/",
    "node-fetch/",
    "axios/",
    "undici",
    "got (",
    "ruby",
    "php/",
    "guzzlehttp/",
    "http_request2/",
    "httpie/",
    "postmanruntime/",
    "insomnia/",
    "rest-client/",
    "faraday v",
    "dart:io",
    "deno/",
    "bun/",
    "reqwest/",
    "winhttp",
    "powershell/",
)
# Anywhere in the User-Agent: automation that says so.
_AUTOMATION_MARKERS = (
    "headlesschrome",
    "phantomjs",
    "puppeteer",
    "playwright",
    "selenium",
    "webdriver",
    "slimerjs",
    "electron/",  # scrapers built on Electron; a real Electron app is no reader of a news site
    "scrapy",
    "httrack",
    "python-requests",
    "libwww",
    "spider",
    "crawl",
    "scraper",
    "bot/",
    "bot;",
    "bot)",
    "bot ",
    "bot+",
    "bot-",
    "bot_",
    "-bot",
)
# Devices and browsers whose names hold a marker (a phone maker called Cubot).
_NOT_AUTOMATION = ("cubot",)


def agent_for(user_agent: str) -> Agent | None:
    """The table's agent the User-Agent names, if any (the longest token that matches)."""
    agent = user_agent.lower()
    return next((a for token, a in _BY_LENGTH if token in agent), None)


def looks_automated(user_agent: str, headers: Mapping[str, str] | None = None) -> bool:
    """No User-Agent, a tool's, or automation markers: an unidentified automated client."""
    agent = user_agent.strip().lower()
    if not agent:
        return True
    if agent.startswith(_TOOL_PREFIXES):
        return True
    if agent.endswith("bot"):
        return True
    hints = (headers or {}).get("HTTP_SEC_CH_UA", "").lower()
    if "headless" in hints:
        return True
    if any(marker in agent for marker in _AUTOMATION_MARKERS):
        return not any(name in agent for name in _NOT_AUTOMATION)
    return False


_BY_CATEGORY = {
    Category.SEARCH: MachineKind.SEARCH,
    Category.ANSWER: MachineKind.ANSWER,
    Category.TRAINING: MachineKind.TRAINING,
    Category.OTHER: MachineKind.AUTOMATED,
}


def classify(
    user_agent: str,
    headers: Mapping[str, str] | None = None,
    *,
    address: str = "",
    verify: bool = True,
) -> MachineKind:
    """What kind of client sent this request (see the module's docstring).

    `headers` is the request's META (or any mapping with the same keys). `address` is the
    connecting address (`REMOTE_ADDR`), which the DNS check reads. With `verify=False` a claim
    of a verifiable crawler is not checked and is `AUTOMATED` (for a caller whose answer would
    be the same either way: the policy does not allow search)."""
    agent = agent_for(user_agent)
    if agent is not None:
        if crawlers.claimed_crawler(user_agent) is not None:
            # A claim of a crawler its operator lets us verify: verified, or never trusted.
            if verify and crawlers.is_verified_crawler(address, user_agent):
                return MachineKind.VERIFIED_SEARCH
            return MachineKind.AUTOMATED
        return _BY_CATEGORY[agent.category]
    if crawlers.claimed_crawler(user_agent) is not None:  # "googlebot" in a stranger's UA
        return MachineKind.AUTOMATED
    return MachineKind.AUTOMATED if looks_automated(user_agent, headers) else MachineKind.HUMAN


def granted(kind: MachineKind, policy: MeterPolicy) -> bool:
    """Whether the policy grants this kind of client the reading a signed-out reader has.
    A browser always; a machine only by its category's signal; an unidentified one never."""
    if kind is MachineKind.HUMAN:
        return True
    if kind in (MachineKind.VERIFIED_SEARCH, MachineKind.SEARCH):
        return policy.allow_search
    if kind is MachineKind.ANSWER:
        return policy.allow_ai_input
    if kind is MachineKind.TRAINING:
        return policy.allow_ai_train
    return False


def tokens(category: Category) -> list[str]:
    """The table's product tokens of one category, as robots.txt names them."""
    return [agent.token for agent in AGENTS if agent.category is category]
