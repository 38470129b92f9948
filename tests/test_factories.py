import pytest

from masthead.newsroom.models import ArticlePage
from tests import factories


@pytest.mark.django_db
def test_article_factory_publishes_under_a_section_with_a_byline():
    page = factories.article("Harbour talks stall")
    assert page.live
    assert page.get_parent().specific.title == "World"
    assert [b.author.title for b in page.bylines.all()] == ["Ana Petrova"]
    assert ArticlePage.objects.live().count() == 1


@pytest.mark.django_db
def test_unpublished_article_factory_makes_a_draft():
    page = factories.article("Still a draft", publish=False)
    assert page.live is False
    assert ArticlePage.objects.live().count() == 0
