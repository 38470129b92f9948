"""Account pages that are Masthead's own; allauth's are included after these at /accounts/."""

from django.urls import URLPattern, URLResolver, path

from masthead.accounts import views

urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.overview, name="account_overview"),
    path("logout-everywhere/", views.log_out_everywhere, name="account_logout_everywhere"),
    path("data/", views.download_data, name="account_download_data"),
    path("delete/", views.delete_account, name="account_delete"),
    path("tokens/<int:token_id>/revoke/", views.revoke_token, name="account_revoke_token"),
    path("personal-tokens/", views.create_personal_token, name="account_create_personal_token"),
    path(
        "personal-tokens/<int:token_id>/revoke/",
        views.revoke_personal_token,
        name="account_revoke_personal_token",
    ),
]
