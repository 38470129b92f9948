from django.urls import path

from masthead.giftsubs import views

app_name = "giftsubs"

urlpatterns = [
    path("gift/", views.buy, name="buy"),
    path("gift/<int:gift_id>/thanks/", views.thanks, name="thanks"),
    path("gift/redeem/<str:code>/", views.redeem, name="redeem"),
]
