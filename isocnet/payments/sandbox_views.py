"""The sandbox gateway's hosted card form (test mode). A card number typed
here goes to the sandbox only; the page answers with a one-time token
(tok_sbx_…) that the portal or the API then attaches. Our models, logs and
database never see the number or the CVC."""

from __future__ import annotations

import json
import re

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from isocnet.core import clock
from isocnet.payments.cards import looks_like_card_number
from isocnet.payments.gateways.sandbox import mint_token

FORM = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Sandbox card form (TEST MODE)</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body style="font-family:system-ui,sans-serif;max-width:26em;margin:2em auto">
<p style="background:#fff3cd;padding:.5em"><strong>TEST MODE</strong> — sandbox gateway. Use 4242 4242 4242 4242.</p>
<form id="card"><label>Card number <input name="number" autocomplete="cc-number" inputmode="numeric" required></label><br>
<label>Expiry month <input name="exp_month" size="2" required></label>
<label>year <input name="exp_year" size="4" required></label><br>
<label>CVC <input name="cvc" size="4" autocomplete="cc-csc" required></label><br>
<button type="submit">Save card</button></form><p id="result" role="status"></p>
<script>
document.getElementById("card").addEventListener("submit", async (e) => {
  e.preventDefault();
  const f = new FormData(e.target);
  const r = await fetch(location.pathname, {method: "POST", headers: {"Content-Type": "application/json"},
    body: JSON.stringify(Object.fromEntries(f))});
  const body = await r.json();
  document.getElementById("result").textContent = body.token || body.message;
  if (body.token && window.opener) window.opener.postMessage({sandboxToken: body.token}, "*");
});
</script></body></html>"""


@csrf_exempt
@require_http_methods(["GET", "POST"])
def card_form(request: HttpRequest):
    if request.method == "GET":
        return HttpResponse(FORM)
    try:
        data = json.loads(request.body)
        number = re.sub(r"[\s-]", "", str(data["number"]))
        exp_month, exp_year = int(data["exp_month"]), int(data["exp_year"])
        cvc = str(data["cvc"])
    except (ValueError, KeyError, TypeError):
        return JsonResponse(
            {"error": "invalid", "message": "number, exp_month, exp_year and cvc are required"},
            status=400,
        )
    if not looks_like_card_number(number):
        return JsonResponse(
            {"error": "invalid", "message": "number: not a valid card number"}, status=422
        )
    if not 1 <= exp_month <= 12 or (exp_year, exp_month) < (
        clock.today().year,
        clock.today().month,
    ):
        return JsonResponse(
            {"error": "invalid", "message": "exp_month: the card has expired"}, status=422
        )
    if not re.fullmatch(r"\d{3,4}", cvc):
        return JsonResponse(
            {"error": "invalid", "message": "cvc: three or four digits"}, status=422
        )
    return JsonResponse(
        {"token": mint_token(number=number, exp_month=exp_month, exp_year=exp_year)}
    )
