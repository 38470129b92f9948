import pytest
from django.core.management import CommandError, call_command
from wagtail.models import PageViewRestriction
from masthead.access.levels import AccessLevel
from masthead.metering.policy import forget_policy
from masthead.metering.models import MeterPolicy
from tests import factories
from tests.audit.test_paywall_audit import body, newsroom  # noqa: F401

pytestmark = pytest.mark.django_db(transaction=True)

def test_real(live_server, newsroom, capsys):
    hidden = factories.article("Hidden", access_level=AccessLevel.FREE, body=body("Hidden"), section_title="Money")
    PageViewRestriction.objects.create(page=hidden, restriction_type=PageViewRestriction.PASSWORD, password="s3cret")
    hidden2 = factories.article("Members", access_level=AccessLevel.METERED, body=body("Members"), section_title="Money")
    PageViewRestriction.objects.create(page=hidden2, restriction_type=PageViewRestriction.LOGIN)
    from wagtail.models import Site
    policy = MeterPolicy.for_site(Site.objects.get(is_default_site=True))
    policy.preview_blocks = 1
    policy.save()
    forget_policy()
    try:
        call_command("paywall_audit", "--base-url", live_server.url)
    except CommandError:
        pass
    with capsys.disabled():
        out = capsys.readouterr().out
    print("\n".join(l for l in out.splitlines() if not l.startswith("READ")))
    assert False
