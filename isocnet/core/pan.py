"""Card numbers (PANs) are never stored, emailed, printed or logged (PCI DSS
req. 3.3, 3.4): only the gateway sees them. This finds one in any text —
13 to 19 digits passing the Luhn check, with or without spaces or dashes
between them, even glued to letters (``tok_4111111111111111``,
``4111111111111111x``) — so a door can refuse it without echoing it."""

from __future__ import annotations

import re

# A run of digits with single spaces or dashes between them.
_ANY_RUN = re.compile(r"[0-9](?:[ -]?[0-9])+")


def luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def is_card_number(text: str) -> bool:
    """Whether ``text`` is a card number and nothing else (the sandbox's
    card form): 13 to 19 Luhn-valid digits, spaces and dashes allowed."""
    digits = re.sub(r"[\s-]", "", text)
    return digits.isdigit() and 13 <= len(digits) <= 19 and luhn_ok(digits)


def _runs(text: str):
    for match in _ANY_RUN.finditer(text):
        digits = re.sub(r"[ -]", "", match.group(0))
        if 13 <= len(digits) <= 19:
            yield match, digits


def card_number_in(text: str) -> bool:
    """Whether ``text`` holds what looks like a card number."""
    if not isinstance(text, str) or sum(ch.isdigit() for ch in text) < 13:
        return False
    return any(luhn_ok(digits) for _, digits in _runs(text))


def redact(text: str) -> str:
    """``text`` with every card number replaced by ``[card number removed]``."""
    if not card_number_in(text):
        return text
    out, last = [], 0
    for match, digits in _runs(text):
        if luhn_ok(digits):
            out.append(text[last : match.start()])
            out.append("[card number removed]")
            last = match.end()
    out.append(text[last:])
    return "".join(out)
