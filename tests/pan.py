"""The card-number (PAN) scanner the security tests run over dumps, logs,
emails and task messages."""

import re

from isocnet.core.pan import is_card_number

# A card number stands alone: not inside a longer token such as a SHA-256
# hex digest or base64 (which DLP scanners also skip).
CANDIDATE = re.compile(r"(?<![0-9A-Za-z])\d(?:[ -]?\d){12,18}(?![0-9A-Za-z])")


def card_numbers_in(text: str) -> list[str]:
    return [m.group(0) for m in CANDIDATE.finditer(text) if is_card_number(m.group(0))]
