"""The provider webhook endpoint: verify, store, apply (billing.webhooks)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from masthead.billing.webhooks import receive_stripe


@csrf_exempt
@require_POST
def stripe_webhook(request: HttpRequest) -> HttpResponse:
    status, body = receive_stripe(request.body, request.headers.get("Stripe-Signature"))
    return JsonResponse(body, status=status)
