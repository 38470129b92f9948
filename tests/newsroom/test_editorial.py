"""Editorial safety: sanitized rich text, refused image uploads, editor-only admin and preview."""

import io

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image as PILImage
from wagtail.images import get_image_model
from wagtail.models import Page

from masthead.newsroom import text
from masthead.newsroom.editors import EDITORS, ensure_editors_group, make_editor
from tests import factories

HOSTILE = (
    '<p>Hello <script>alert(1)</script><img src=x onerror="alert(2)">'
    '<a href="javascript:alert(3)">click</a> <a href="https://example.org" onclick="x()">ok</a>'
    '<iframe src="https://evil.example"></iframe><b style="color:red">bold</b></p>'
)


def test_sanitize_keeps_allowed_markup_and_drops_everything_else():
    cleaned = str(text.sanitize_html(HOSTILE))
    assert cleaned == (
        '<p>Hello <a rel="noopener noreferrer">click</a> '
        '<a href="https://example.org" rel="noopener noreferrer">ok</a><b>bold</b></p>'
    )


@pytest.mark.django_db
def test_hostile_html_in_a_stored_body_never_reaches_the_reader(client):
    page = factories.article(body=[("paragraph", HOSTILE)])
    html = client.get(page.url).content.decode()
    for bad in ("<script>alert", "onerror", "javascript:", "<iframe", "onclick", "style="):
        assert bad not in html
    assert '<a href="https://example.org" rel="noopener noreferrer">ok</a>' in html


@pytest.mark.django_db
def test_author_bio_is_sanitized(client):
    author = factories.author("Bio Writer")
    author.bio = "<p>Writes <b>well</b><script>alert(1)</script></p>"
    author.save_revision().publish()
    factories.article(authors=["Bio Writer"])
    html = client.get(author.url).content.decode()
    assert "<p>Writes <b>well</b></p>" in html and "<script>alert" not in html


def test_paragraph_editor_offers_only_the_restricted_features():
    from masthead.newsroom.models import ArticleBodyBlock

    assert ArticleBodyBlock().child_blocks["paragraph"].features == [
        "bold",
        "italic",
        "link",
        "ol",
        "ul",
        "superscript",
        "subscript",
    ]


@pytest.mark.django_db
def test_sponsored_article_without_a_sponsor_is_refused():
    page = factories.article(publish=False)
    page.sponsored = True
    with pytest.raises(ValidationError) as error:
        page.full_clean()
    assert "sponsor" in error.value.message_dict


@pytest.fixture
def editor_client(client):
    home = factories.home_page()
    editor = factories.user("editor@example.com")
    make_editor(editor, home)
    client.force_login(editor)
    return client


def png_bytes(size, mode="RGB") -> bytes:
    buffer = io.BytesIO()
    PILImage.new(mode, size).save(buffer, "PNG")
    return buffer.getvalue()


@pytest.mark.django_db
def test_image_upload_that_is_not_an_image_is_refused_with_a_message(editor_client):
    upload = SimpleUploadedFile("notes.png", b"this is not a picture", content_type="image/png")
    response = editor_client.post("/admin/images/add/", {"title": "Notes", "file": upload})
    assert response.status_code == 200
    assert "The file you uploaded was either not an image or a corrupted image" in (
        response.content.decode()
    )
    assert get_image_model().objects.count() == 0


@pytest.mark.django_db
def test_decompression_bomb_upload_is_refused_with_a_message(editor_client, settings):
    settings.WAGTAILIMAGES_MAX_IMAGE_PIXELS = 1_000_000
    bomb = png_bytes((2000, 2000), mode="1")  # tiny file, four million pixels
    upload = SimpleUploadedFile("bomb.png", bomb, content_type="image/png")
    response = editor_client.post("/admin/images/add/", {"title": "Bomb", "file": upload})
    assert response.status_code == 200
    assert "too many pixels" in response.content.decode()
    assert get_image_model().objects.count() == 0


@pytest.mark.django_db
def test_a_real_image_upload_is_accepted(editor_client):
    upload = SimpleUploadedFile("ok.png", png_bytes((800, 450)), content_type="image/png")
    response = editor_client.post("/admin/images/add/", {"title": "Fine", "file": upload})
    assert response.status_code == 302
    assert get_image_model().objects.get().title == "Fine"


@pytest.mark.django_db
def test_readers_cannot_enter_the_admin(client):
    factories.home_page()
    client.force_login(factories.user("reader@example.com"))
    response = client.get("/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


@pytest.mark.django_db
def test_editors_group_can_write_and_publish_articles_but_is_not_superuser():
    home = factories.home_page()
    group = ensure_editors_group(home)
    assert ensure_editors_group(home) == group  # idempotent
    editor = factories.user("desk@example.com")
    make_editor(editor, home)
    article = factories.article()
    permissions = article.permissions_for_user(editor)
    assert permissions.can_edit() and permissions.can_publish()
    assert editor.has_perm("wagtailadmin.access_admin") and not editor.is_superuser
    assert editor.has_perm("newsroom.add_sponsor")
    assert list(editor.groups.values_list("name", flat=True)) == [EDITORS]


@pytest.mark.django_db
def test_draft_preview_is_for_editors_only(client, editor_client):
    page = factories.article("Published title")
    page.title = "Draft title"
    page.save_revision()
    preview_url = f"/admin/pages/{page.pk}/edit/preview/"
    reader = client.__class__()
    reader.force_login(factories.user("curious@example.com"))
    assert reader.get(preview_url).status_code == 302
    response = editor_client.get(
        f"/admin/pages/{page.pk}/revisions/{page.latest_revision_id}/view/"
    )
    assert response.status_code == 200
    assert "Draft title" in response.content.decode()
    public = client.__class__().get(page.url).content.decode()
    assert "Published title" in public and "Draft title" not in public


@pytest.mark.django_db
def test_preview_is_never_cached_for_readers(editor_client, client):
    page = factories.article("Live headline")
    page.title = "Unpublished headline"
    page.save_revision()
    editor_client.get(f"/admin/pages/{page.pk}/revisions/{page.latest_revision_id}/view/")
    html = client.get(page.url).content.decode()
    assert "Live headline" in html and "Unpublished headline" not in html


@pytest.mark.django_db
def test_scheduled_publishing_runs_as_a_job(django_capture_on_commit_callbacks):
    from datetime import timedelta

    from django.utils import timezone

    from masthead.core.jobs import run_due_jobs

    page = factories.article("Embargoed", publish=False)
    revision = page.latest_revision
    revision.approved_go_live_at = timezone.now() - timedelta(minutes=1)
    revision.save()
    Page.objects.filter(pk=page.pk).update(go_live_at=revision.approved_go_live_at)
    handled = run_due_jobs()
    assert handled["newsroom.publish_scheduled"] == 1
    page.refresh_from_db()
    assert page.live
    assert run_due_jobs()["newsroom.publish_scheduled"] == 0
