"""Checkout, the return page and the provider webhook. The namespace stays `billing:`
(templates and other apps reverse `billing:checkout_plan`, ...), but the checkout views live
here, above the payments layer, because they call the subscription actions."""

from django.urls import URLPattern, URLResolver, path

from masthead.billing import views as payment_views
from masthead.subscriptions import checkout_views as views

app_name = "billing"
urlpatterns: list[URLPattern | URLResolver] = [
    path("checkout/offer/<slug:code>/", views.checkout_offer, name="checkout_offer"),
    path("checkout/plan/<slug:slug>/", views.checkout_plan, name="checkout_plan"),
    path("checkout/return/", views.returned, name="returned"),
    path("billing/portal/", views.portal, name="portal"),
    path("webhooks/stripe/", payment_views.stripe_webhook, name="stripe_webhook"),
]
