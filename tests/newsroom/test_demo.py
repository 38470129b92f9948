import pytest
from django.contrib.auth import get_user_model
from wagtail.models import Page, Revision, Site

from masthead.newsroom import demo, demo_copy
from masthead.newsroom.models import AccessLevel, ArticlePage, AuthorPage, SectionPage


def snapshot() -> dict[str, object]:
    return {
        "pages": sorted(Page.objects.values_list("pk", "url_path", "live")),
        "revisions": Revision.objects.count(),
        "bodies": sorted(ArticlePage.objects.values_list("pk", "body_text")),
        "users": sorted(get_user_model().objects.values_list("email", "password")),
        "sites": sorted(Site.objects.values_list("hostname", "port", "root_page_id")),
    }


@pytest.mark.django_db
def test_demo_loads_a_newsroom_and_a_second_run_changes_nothing(monkeypatch):
    monkeypatch.delenv("HOST", raising=False)
    monkeypatch.delenv("PORT", raising=False)
    lines = demo.load()
    first = snapshot()
    assert demo.load() == lines
    assert snapshot() == first
    assert lines[0] == "Newsroom: 16 articles in 4 sections"
    assert lines[1] == (
        "Editor login: editor@meridian.example / meridian-editor-2026 "
        "at http://127.0.0.1:8000/admin/"
    )


@pytest.mark.django_db
def test_demo_serves_and_prints_the_address_host_and_port_name(monkeypatch):
    monkeypatch.setenv("HOST", "localhost")
    monkeypatch.setenv("PORT", "8123")
    lines = demo.load()
    assert lines[1].endswith("at http://localhost:8123/admin/")
    site = Site.objects.get(is_default_site=True)
    assert (site.hostname, site.port) == ("localhost", 8123)


@pytest.mark.django_db
def test_demo_content_has_the_mix_the_product_needs():
    demo.load()
    articles = ArticlePage.objects.live()
    assert articles.count() >= 15
    assert SectionPage.objects.live().count() >= 4
    assert AuthorPage.objects.filter(bylines__isnull=False).distinct().count() >= 4
    levels = [a.access_level for a in articles]
    assert levels.count(AccessLevel.SUBSCRIBERS) >= 2
    assert levels.count(AccessLevel.FREE) >= 3
    assert levels.count(AccessLevel.METERED) >= 3
    sponsored = articles.get(sponsored=True)
    assert sponsored.sponsor.disclosure.startswith("This content was commissioned by ")


@pytest.mark.django_db
def test_demo_analysis_piece_is_shaped_like_the_capture():
    demo.load()
    piece = ArticlePage.objects.get(slug=demo_copy.ANALYSIS["slug"])
    assert piece.hero_image is not None
    assert piece.hero_credit == "© Meridian Photo"
    assert piece.dateline == "Valdgrad"
    assert [b.value for b in piece.body if b.block_type == "subheading"] == [
        "An empty hand",
        "Lost in translation",
        "Caught between partners",
    ]
    assert len(piece.body_text.split()) >= 900
    assert [r.target.slug for r in piece.related.all()] == [
        "opinion-patience-is-not-a-policy",
        "ferry-route-reopens-after-three-years",
    ]


@pytest.mark.django_db
def test_demo_site_answers_on_the_demo_address_and_on_localhost(client, monkeypatch):
    monkeypatch.delenv("HOST", raising=False)
    monkeypatch.delenv("PORT", raising=False)
    demo.load()
    site = Site.objects.get(is_default_site=True)
    assert (site.hostname, site.port, site.root_page.specific_class.__name__) == (
        "127.0.0.1",
        8000,
        "HomePage",
    )
    for host in ("127.0.0.1:8000", "localhost:8000"):
        response = client.get("/", HTTP_HOST=host)
        assert response.status_code == 200
        assert "patient overture to Valdoria" in response.content.decode()


@pytest.mark.django_db
def test_demo_editor_is_staff_in_the_editors_group_and_not_a_superuser(client):
    demo.load()
    editor = get_user_model().objects.get(email=demo.EDITOR_EMAIL)
    assert editor.is_staff and not editor.is_superuser
    assert list(editor.groups.values_list("name", flat=True)) == ["Editors"]
    assert client.login(username=demo.EDITOR_EMAIL, password=demo.EDITOR_PASSWORD)
    assert client.get("/admin/").status_code == 200
    home = Page.objects.get(depth=2)
    assert client.get(f"/admin/pages/{home.pk}/").status_code == 200


@pytest.mark.django_db
def test_every_demo_preview_is_under_a_third_of_its_article(monkeypatch):
    from masthead.metering.policy import current_policy

    monkeypatch.delenv("HOST", raising=False)
    demo.load()
    preview = current_policy().preview_blocks
    assert preview == 2
    ratios = {a.slug: preview / len(a.body) for a in ArticlePage.objects.live()}
    assert len(ratios) == 16
    assert {slug: r for slug, r in ratios.items() if r >= 1 / 3} == {}


@pytest.mark.django_db
def test_demo_illustrations_are_distinct_pictures_with_captions_that_describe_them(monkeypatch):
    import hashlib

    from PIL import Image as PILImage

    from masthead.newsroom import demo_pictures

    monkeypatch.delenv("HOST", raising=False)
    demo.load()
    illustrated = list(
        ArticlePage.objects.live().exclude(hero_image=None).select_related("hero_image")
    )
    assert len(illustrated) == 7
    digests, shapes = set(), set()
    for article in illustrated:
        assert article.hero_caption and article.hero_caption != article.title
        assert (
            article.hero_caption.startswith("Illustration: ")
            or article.slug == (demo_copy.ANALYSIS["slug"])
        )
        with article.hero_image.file.open("rb") as file:
            data = file.read()
        digests.add(hashlib.sha256(data).hexdigest())
        # Not one silhouette recoloured: the pictures differ in shape, not only in colour.
        with PILImage.open(article.hero_image.file.path) as picture:
            edges = picture.convert("L").resize((64, 36)).point(lambda v: 255 if v > 96 else 0)
            shapes.add(edges.tobytes())
    assert len(digests) == 7 and len(shapes) == 7
    assert set(demo_pictures.SCENES) == {
        "harbour",
        "ferry",
        "container_ship",
        "terminal",
        "workshop",
        "city",
        "tall_ships",
    }
    # Deterministic: the same scene draws the same pixels.
    assert demo_pictures.draw("ferry").tobytes() == demo_pictures.draw("ferry").tobytes()
