from django.urls import URLPattern, URLResolver, path

from masthead.billing import views

app_name = "billing"
urlpatterns: list[URLPattern | URLResolver] = [
    path("checkout/offer/<slug:code>/", views.checkout_offer, name="checkout_offer"),
    path("checkout/plan/<slug:slug>/", views.checkout_plan, name="checkout_plan"),
    path("checkout/return/", views.returned, name="returned"),
    path("webhooks/stripe/", views.stripe_webhook, name="stripe_webhook"),
]
