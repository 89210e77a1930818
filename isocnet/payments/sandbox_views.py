"""The sandbox gateway's hosted card form (test mode). A card number typed
here goes to the sandbox only; the page answers with a one-time token
(tok_sbx_…) that the portal or the API then attaches. Our models, logs and
database never see the number or the CVC.

Two ways in, like a real gateway's hosted page:
- ``?return=/portal/…&state=…``: a plain HTML form; on success the browser
  is sent back to ``return`` with ``token`` and ``state`` (no JavaScript);
- a JSON POST (scripts, tests): ``{"token": …}`` in the answer.
"""

from __future__ import annotations

import json
import re
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.template.loader import render_to_string
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from isocnet.core import clock
from isocnet.core.pan import is_card_number
from isocnet.payments.gateways.sandbox import mint_token

_RETURN = re.compile(r"/portal/[A-Za-z0-9/_-]*")
_STATE = re.compile(r"[A-Za-z0-9_-]{1,64}")


def _check(data) -> tuple[dict | None, str]:
    """The card's details, or (None, "field: reason")."""
    try:
        number = re.sub(r"[\s-]", "", str(data["number"]))
        exp_month, exp_year = int(data["exp_month"]), int(data["exp_year"])
        cvc = str(data["cvc"])
    except (ValueError, KeyError, TypeError):
        return None, "number, exp_month, exp_year and cvc are required"
    if exp_year < 100:
        exp_year += 2000
    today = clock.today()
    if not is_card_number(number):
        return None, "number: not a valid card number"
    if not 1 <= exp_month <= 12 or (exp_year, exp_month) < (today.year, today.month):
        return None, "exp_month: the card has expired"
    if not re.fullmatch(r"\d{3,4}", cvc):
        return None, "cvc: three or four digits"
    return {"number": number, "exp_month": exp_month, "exp_year": exp_year}, ""


def _page(request: HttpRequest, *, error: str = "", status: int = 200) -> HttpResponse:
    back = request.GET.get("return", "")
    html = render_to_string(
        "payments/sandbox_card_form.html",
        {
            "error": error,
            "return_path": back if _RETURN.fullmatch(back) else "",
            "state": request.GET.get("state", ""),
        },
        request=request,
    )
    return HttpResponse(html, status=status)


@csrf_exempt  # the gateway's page, not ours: it takes no session and sets none
@require_http_methods(["GET", "POST"])
def card_form(request: HttpRequest):
    if request.method == "GET":
        return _page(request)
    if request.content_type == "application/json":
        try:
            data = json.loads(request.body)
        except ValueError:
            data = None
        card, error = _check(data) if isinstance(data, dict) else (None, "send a JSON object")
        if card is None:
            status = 400 if "required" in error or "JSON" in error else 422
            return JsonResponse({"error": "invalid", "message": error}, status=status)
        return JsonResponse({"token": mint_token(**card)})
    back, state = request.GET.get("return", ""), request.GET.get("state", "")
    if not _RETURN.fullmatch(back) or not _STATE.fullmatch(state):
        return _page(
            request, error="This form was opened without a valid return address.", status=400
        )
    card, error = _check(request.POST)
    if card is None:
        return _page(request, error=error.split(": ", 1)[-1].capitalize(), status=422)
    token = mint_token(**card)
    return HttpResponseRedirect(f"{back}?{urlencode({'token': token, 'state': state})}")
