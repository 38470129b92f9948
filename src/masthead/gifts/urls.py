from django.urls import path

from masthead.gifts import views

app_name = "gifts"

urlpatterns = [
    path("accounts/gifts/", views.index, name="index"),
    path("accounts/gifts/new/", views.create, name="create"),
    path("accounts/gifts/<int:gift_id>/revoke/", views.revoke, name="revoke"),
]
