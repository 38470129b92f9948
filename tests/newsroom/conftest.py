"""Newsroom test fixtures: media files in a temporary folder, a cold cache per test."""

from __future__ import annotations

import io

import pytest
from django.core.cache import cache
from django.core.files.images import ImageFile
from PIL import Image as PILImage
from wagtail.images import get_image_model
from wagtail.models import Collection


@pytest.fixture(autouse=True)
def isolated_media_and_cache(settings, tmp_path):
    from masthead.newsroom import listing_cache

    settings.MEDIA_ROOT = tmp_path / "media"
    cache.clear()
    listing_cache.forget()
    yield
    cache.clear()
    listing_cache.forget()


@pytest.fixture
def make_image():
    """`make_image(title, size)`: a real JPEG in the image library."""

    def build(title: str = "Harbour at dawn", size: tuple[int, int] = (1600, 900)):
        buffer = io.BytesIO()
        PILImage.new("RGB", size, (40, 70, 110)).save(buffer, "JPEG")
        file = ImageFile(buffer, name=f"{title.lower().replace(' ', '-')}.jpg")
        # Transactional tests flush Wagtail's root collection (it comes from a data migration).
        if Collection.get_first_root_node() is None:
            Collection.add_root(name="Root")
        return get_image_model().objects.create(title=title, file=file)

    return build
