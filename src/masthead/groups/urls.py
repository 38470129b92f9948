from django.urls import path

from masthead.groups import views

app_name = "groups"

urlpatterns = [
    path("account/group/", views.manage, name="manage"),
    path("account/group/invite/", views.invite, name="invite"),
    path("account/group/members/<int:membership_id>/remove/", views.remove, name="remove"),
    path(
        "account/group/invitations/<int:invitation_id>/revoke/",
        views.revoke_invitation,
        name="revoke_invitation",
    ),
    path("account/group/link/", views.join_link, name="join_link"),
    path("account/group/seats/", views.seats, name="seats"),
    path("groups/invitations/<str:token>/", views.accept, name="invitation"),
    path("groups/join/<str:token>/", views.join, name="join"),
    path("institutions/<slug:slug>/", views.institution, name="institution"),
]
