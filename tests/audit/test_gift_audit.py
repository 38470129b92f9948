"""The paywall audit reads gift links: a valid gift on its article shows the full text, and a
door that honours an expired, revoked or misdirected gift is a leak."""

from __future__ import annotations

from urllib.parse import urlparse

import pytest

from masthead.access.levels import AccessLevel
from masthead.gifts.models import GiftLink
from masthead.gifts.passes import Standing, pass_for
from masthead.newsroom.models import ArticlePage
from tests import factories
from tests.audit.test_paywall_audit import (  # noqa: F401
    SOME,
    audit,
    body,
    failing,
    gated_html,
    newsroom,
    plant,
)

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_audit_reads_every_gift_door_and_passes(live_server, newsroom, capsys):  # noqa: F811
    chosen = [arg for name in SOME for arg in ("--persona", name)]
    audit(live_server, *chosen)
    out = capsys.readouterr().out
    assert "LEAK" not in out and "BLIND" not in out, out
    for kind in ("valid", "another article", "expired", "revoked"):
        assert f" gift ({kind}) " in out, out
        assert f" gift api ({kind}) " in out, out
    assert GiftLink.objects.count() == 0  # given by the audit's staff account, gone with it


def honouring(standing: Standing):
    """A door that shows the whole article to a gift of this standing (a planted bug)."""

    def rewrite(request, response):
        gift = pass_for(request.GET.get("gift"))
        if gift is None or request.path.startswith("/api/"):
            return None
        for page in ArticlePage.objects.live():
            url = urlparse(page.get_url() or "").path
            at_page = request.path in {url, f"{url}print/"}
            if at_page and gift.standing(page.pk, _now()) is standing:
                response.content = response.content.replace(
                    b"</body>", gated_html(page.title).encode() + b"</body>", 1
                )
        return None

    return rewrite


def _now():
    from masthead.core import clock

    return clock.now()


@pytest.mark.parametrize(
    ("standing", "door"),
    [
        (Standing.EXPIRED, "gift (expired)"),
        (Standing.REVOKED, "gift (revoked)"),
        (Standing.OTHER_ARTICLE, "gift (another article)"),
    ],
    ids=["expired", "revoked", "another-article"],
)
def test_a_door_honouring_a_dead_or_misdirected_gift_fails_the_audit(
    live_server,
    newsroom,  # noqa: F811
    capsys,
    monkeypatch,
    settings,
    standing,
    door,
):
    # A second subscribers-only article, so the misdirected gift lands where no reader here
    # reads anyway (the audit gives subscribers-only articles first).
    factories.article("Strongroom", access_level=AccessLevel.SUBSCRIBERS, body=body("Strongroom"))
    plant(monkeypatch, settings, honouring(standing))
    leaks = failing(live_server, capsys, personas=["fresh anonymous", "exhausted registered"])
    assert leaks
    assert {line.split(" as ")[0].removeprefix("LEAK ") for line in leaks} == {door}
