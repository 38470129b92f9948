from django.urls import URLPattern, URLResolver, path

from masthead.subscriptions import views

app_name = "subscriptions"
urlpatterns: list[URLPattern | URLResolver] = [
    path("offers/", views.offers, name="offers"),
    path("account/subscription/", views.account, name="account"),
    path("account/subscription/cancel/", views.cancel, name="cancel"),
    path("account/subscription/cancel/reason/", views.cancel_reason, name="cancel_reason"),
    path("account/subscription/cancel/confirm/", views.cancel_confirm, name="cancel_confirm"),
    path("account/subscription/cancel/offer/", views.accept_offer, name="accept_offer"),
    path("account/subscription/resume/", views.resume, name="resume"),
    path("account/subscription/pause/", views.pause, name="pause"),
    path("account/subscription/unpause/", views.unpause, name="unpause"),
    path("account/subscription/change/<slug:slug>/", views.change_plan, name="change_plan"),
    path("account/payment-method/", views.payment_method, name="payment_method"),
    path("account/invoices/<int:pk>/", views.invoice, name="invoice"),
]
