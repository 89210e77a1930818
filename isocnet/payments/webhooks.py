"""POST /webhooks/<gateway>: signed events from the payment gateway."""

from __future__ import annotations

import json

from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from isocnet.payments.charges import process_webhook
from isocnet.payments.gateways import get_gateway
from isocnet.payments.gateways.base import GatewayError

MAX_BODY = 64 * 1024


@csrf_exempt
@require_POST
def gateway_webhook(request: HttpRequest, gateway_name: str):
    gateway = get_gateway()
    if gateway_name != gateway.name:
        return JsonResponse(
            {"error": "not_found", "message": f"no gateway {gateway_name!r}"}, status=404
        )
    body = request.body
    if len(body) > MAX_BODY:
        return JsonResponse({"error": "too_large", "message": "body: too large"}, status=413)
    signature = (
        request.headers.get("Sandbox-Signature") or request.headers.get("Stripe-Signature") or ""
    )
    try:
        event = gateway.parse_webhook(payload=body, signature=signature)
    except GatewayError as exc:
        return JsonResponse({"error": "bad_signature", "message": f"signature: {exc}"}, status=400)
    outcome = process_webhook(gateway_name=gateway.name, event=event)
    return JsonResponse(
        {"received": event.id, "outcome": outcome, "echo": json.loads(body).get("type")}
    )
