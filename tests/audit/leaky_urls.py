"""A door that skips the access decision, planted to prove the paywall audit catches it."""

from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import include, path
from django.utils.html import escape

from masthead.newsroom.models import ArticlePage


def leaky_amp_view(request, pk):
    article = get_object_or_404(ArticlePage, pk=pk)
    return HttpResponse("".join(f"<p>{escape(str(b.value))}</p>" for b in article.body))


urlpatterns = [path("amp/<int:pk>/", leaky_amp_view), path("", include("masthead.urls"))]
