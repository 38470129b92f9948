from django.urls import URLPattern, URLResolver, path

from masthead.access import views

app_name = "access"
urlpatterns: list[URLPattern | URLResolver] = [
    path("campaigns/<int:pk>/", views.campaign, name="campaign"),
]
