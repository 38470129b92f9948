"""Editorial model: what an editor publishes and a reader reads."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import models
from django.http import HttpRequest, HttpResponse
from modelcluster.contrib.taggit import ClusterTaggableManager
from modelcluster.fields import ParentalKey
from taggit.models import TaggedItemBase
from wagtail import blocks
from wagtail.admin.panels import FieldPanel, InlinePanel, MultiFieldPanel
from wagtail.fields import RichTextField, StreamField
from wagtail.images.blocks import ImageChooserBlock
from wagtail.models import Orderable, Page
from wagtail.search import index
from wagtail.snippets.models import register_snippet
from wagtail.url_routing import RouteResult

from masthead.access.levels import AccessLevel
from masthead.newsroom import text

# Rich text editors may use in article paragraphs; everything else is stripped.
PARAGRAPH_FEATURES = ["bold", "italic", "link", "ol", "ul", "superscript", "subscript"]


class CaptionedImageBlock(blocks.StructBlock):
    image = ImageChooserBlock()
    caption = blocks.CharBlock(required=False, max_length=300)
    credit = blocks.CharBlock(required=False, max_length=120, help_text="e.g. © Reuters")

    class Meta:
        icon = "image"
        template = "newsroom/blocks/image.html"


class PullQuoteBlock(blocks.StructBlock):
    quote = blocks.TextBlock(max_length=500)
    attribution = blocks.CharBlock(required=False, max_length=200)

    class Meta:
        icon = "openquote"
        template = "newsroom/blocks/pull_quote.html"


class ArticleBodyBlock(blocks.StreamBlock):
    paragraph = blocks.RichTextBlock(
        features=PARAGRAPH_FEATURES, template="newsroom/blocks/paragraph.html"
    )
    subheading = blocks.CharBlock(
        max_length=120, icon="title", template="newsroom/blocks/subheading.html"
    )
    image = CaptionedImageBlock()
    pull_quote = PullQuoteBlock()


@register_snippet
class Sponsor(index.Indexed, models.Model):
    """Who commissioned sponsored content, and the disclosure readers are shown."""

    name = models.CharField(max_length=120, unique=True)
    url = models.URLField(blank=True)
    disclosure = models.TextField(
        help_text="Shown under 'About sponsored content', e.g. "
        "'This content was commissioned by Example Corp's business bureau.'",
    )

    panels = [FieldPanel("name"), FieldPanel("url"), FieldPanel("disclosure")]
    search_fields = [index.SearchField("name")]

    def __str__(self) -> str:
        return self.name


class HomePage(Page):
    """The front page: top story, then the latest articles by section."""

    top_story = models.ForeignKey(
        "newsroom.ArticlePage",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Leave empty to lead with the latest article.",
    )
    tagline = models.CharField(max_length=200, blank=True)

    content_panels = [*Page.content_panels, FieldPanel("tagline"), FieldPanel("top_story")]
    subpage_types = ["newsroom.SectionPage", "newsroom.AuthorIndexPage"]
    parent_page_types = ["wagtailcore.Page"]
    max_count = 1
    template = "newsroom/home_page.html"

    def get_context(self, request: HttpRequest, *args: Any, **kwargs: Any) -> dict[str, Any]:
        from masthead.newsroom import listing

        context = super().get_context(request, *args, **kwargs)
        context.update(listing.front_page(self, request))
        return context

    def serve(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        from masthead.newsroom import listing

        return listing.personal(request, super().serve(request, *args, **kwargs))


class SectionPage(Page):
    """A section (World, Business, ...) listing its articles, newest first, paginated."""

    intro = models.CharField(max_length=300, blank=True)

    content_panels = [*Page.content_panels, FieldPanel("intro")]
    subpage_types = ["newsroom.ArticlePage"]
    parent_page_types = ["newsroom.HomePage"]
    template = "newsroom/section_page.html"

    def serve(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        from masthead.access.doors import screen_of
        from masthead.newsroom import listing

        return listing.serve_paginated(
            request,
            self,
            listing.articles(screen_of(request)).descendant_of(self),
            self.template,
        )


class AuthorIndexPage(Page):
    subpage_types = ["newsroom.AuthorPage"]
    parent_page_types = ["newsroom.HomePage"]
    max_count = 1
    template = "newsroom/author_index_page.html"

    def get_context(self, request: HttpRequest, *args: Any, **kwargs: Any) -> dict[str, Any]:
        from masthead.access.doors import screen_of

        context = super().get_context(request, *args, **kwargs)
        authors = AuthorPage.objects.live().child_of(self).order_by("title")
        context["authors"] = screen_of(request).readable(authors)
        return context

    def serve(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        from masthead.newsroom import listing

        return listing.personal(request, super().serve(request, *args, **kwargs))


class AuthorPage(Page):
    """A journalist: byline name is the page title."""

    role = models.CharField(max_length=120, blank=True, help_text="e.g. Moscow correspondent")
    bio = RichTextField(features=["bold", "italic", "link"], blank=True)
    photo = models.ForeignKey(
        "wagtailimages.Image", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    content_panels = [
        *Page.content_panels,
        FieldPanel("role"),
        FieldPanel("bio"),
        FieldPanel("photo"),
    ]
    search_fields = [*Page.search_fields, index.SearchField("role")]
    subpage_types: list[str] = []
    parent_page_types = ["newsroom.AuthorIndexPage"]
    template = "newsroom/author_page.html"

    def serve(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        from masthead.access.doors import screen_of
        from masthead.newsroom import listing

        return listing.serve_paginated(
            request,
            self,
            listing.articles(screen_of(request)).filter(bylines__author=self),
            self.template,
            extra={"bio_html": text.sanitize_html(self.bio)},
        )


class ArticleTag(TaggedItemBase):
    content_object = ParentalKey(
        "newsroom.ArticlePage", related_name="tagged_items", on_delete=models.CASCADE
    )


class ArticlePage(Page):
    """An article. Its body is cut by masthead.access before any door shows it."""

    standfirst = models.TextField(
        max_length=400, help_text="One or two sentences under the headline."
    )
    dateline = models.CharField(
        max_length=60, blank=True, help_text="e.g. MOSCOW (shown as 'MOSCOW --')"
    )
    hero_image = models.ForeignKey(
        "wagtailimages.Image", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    hero_caption = models.CharField(max_length=300, blank=True)
    hero_credit = models.CharField(max_length=120, blank=True, help_text="e.g. © Reuters")
    body = StreamField(ArticleBodyBlock(), use_json_field=True)
    access_level = models.CharField(
        max_length=16, choices=AccessLevel.choices, default=AccessLevel.METERED
    )
    sponsored = models.BooleanField(default=False)
    sponsor = models.ForeignKey(
        Sponsor, null=True, blank=True, on_delete=models.PROTECT, related_name="articles"
    )
    updated_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="Set when an article is materially updated after publication.",
    )
    tags = ClusterTaggableManager(through=ArticleTag, blank=True)
    # Derived from the body on save (publish time), never edited. Search matches it only for
    # readers `access` lets read the article in full (newsroom.search).
    body_text = models.TextField(blank=True, editable=False)
    # The headline again, on this table, so the full-text index (newsroom.fulltext) can hold
    # it beside the standfirst and body.
    search_title = models.CharField(max_length=255, blank=True, editable=False)

    content_panels = [
        *Page.content_panels,
        FieldPanel("standfirst"),
        InlinePanel("bylines", label="Authors", min_num=1),
        MultiFieldPanel(
            [FieldPanel("hero_image"), FieldPanel("hero_caption"), FieldPanel("hero_credit")],
            heading="Hero image",
        ),
        FieldPanel("dateline"),
        FieldPanel("body"),
        FieldPanel("tags"),
        InlinePanel("related", label="Related articles", max_num=6),
    ]
    settings_panels = [
        *Page.settings_panels,
        MultiFieldPanel(
            [
                FieldPanel("access_level"),
                FieldPanel("sponsored"),
                FieldPanel("sponsor"),
                FieldPanel("updated_at"),
            ],
            heading="Access and sponsorship",
        ),
    ]
    # The index holds what every reader who may find the article may read (headline and
    # standfirst), never body text; readers' searches are made in newsroom.search.
    search_fields = [
        *Page.search_fields,
        index.SearchField("standfirst"),
        index.FilterField("access_level"),
        index.FilterField("first_published_at"),
    ]
    parent_page_types = ["newsroom.SectionPage"]
    subpage_types: list[str] = []
    template = "newsroom/article_page.html"

    def clean(self) -> None:
        super().clean()
        if self.sponsored and not self.sponsor_id:
            raise ValidationError(
                {"sponsor": "A sponsored article needs its sponsor for the disclosure."}
            )

    def refresh_derived_text(self) -> None:
        """Compute the searchable text once, when the article is saved, not per request."""
        self.body_text = text.blocks_text(list(self.body))
        self.search_title = self.title

    def save(self, *args: Any, **kwargs: Any) -> None:
        update_fields = kwargs.get("update_fields")
        if update_fields is None or {"body", "title"} & set(update_fields):
            self.refresh_derived_text()
            if update_fields is not None:
                kwargs["update_fields"] = {*update_fields, "body_text", "search_title"}
        super().save(*args, **kwargs)

    def route(self, request: HttpRequest, path_components: list[str]) -> RouteResult:
        """`<article>/print/` is the print view of a live article."""
        if path_components == ["print"] and self.live:
            return RouteResult(self, kwargs={"print_view": True})
        return super().route(request, path_components)

    def serve(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        from masthead.newsroom import article_view

        return article_view.serve(request, self, print_view=kwargs.get("print_view", False))


class ArticleByline(Orderable):
    article = ParentalKey(ArticlePage, related_name="bylines", on_delete=models.CASCADE)
    author = models.ForeignKey(AuthorPage, on_delete=models.PROTECT, related_name="bylines")

    panels = [FieldPanel("author")]

    class Meta(Orderable.Meta):
        constraints = [models.UniqueConstraint(fields=["article", "author"], name="unique_byline")]


class RelatedArticle(Orderable):
    article = ParentalKey(ArticlePage, related_name="related", on_delete=models.CASCADE)
    target = models.ForeignKey(ArticlePage, on_delete=models.CASCADE, related_name="+")

    panels = [FieldPanel("target")]
