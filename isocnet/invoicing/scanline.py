"""The scan line of a check payer's remittance slip.

One line of four fields, separated by single spaces, printed in a monospaced
face under the slip (and in the slip's QR code, which a 2-D scanner types in
as keystrokes):

    C000123 2026-000123 0000004995 7
    account invoice     amount due check character

- the account number and the invoice number as printed on the invoice;
- the amount due at issue in cents, ten digits, zero-padded;
- one check character: Luhn mod 36 (the Luhn algorithm over the alphabet
  0-9A-Z, python-stdnum's ``luhn`` with that alphabet) computed over the
  letters and digits of the first three fields run together, upper case,
  with any punctuation (the invoice number's dash) left out.

Luhn catches every single misread or mistyped character and almost every
swap of two neighbours, so a scanner's or a clerk's slip of one digit never
posts money to the wrong account or invoice. Pure: no database.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from stdnum import luhn

ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
AMOUNT_DIGITS = 10
_SHAPE = re.compile(r"^(\S+) (\S+) ([0-9]{10}) ([0-9A-Z])$")
# Inside free text (a bank file's remittance text): the same four fields.
_IN_TEXT = re.compile(
    r"(?<!\S)([0-9A-Z][0-9A-Z-]*) ([0-9A-Z][0-9A-Z-]*) ([0-9]{10}) ([0-9A-Z])(?!\S)"
)


class ScanLineError(ValueError):
    """The line is not a scan line, or its check character does not match."""


@dataclass(frozen=True)
class ScanLine:
    account_number: str
    invoice_number: str
    amount_minor: int

    def __str__(self) -> str:
        return scan_line(self.account_number, self.invoice_number, self.amount_minor)


def _payload(account_number: str, invoice_number: str, amount: str) -> str:
    return re.sub(r"[^0-9A-Z]", "", f"{account_number}{invoice_number}{amount}".upper())


def check_character(account_number: str, invoice_number: str, amount_minor: int) -> str:
    return luhn.calc_check_digit(
        _payload(account_number, invoice_number, f"{amount_minor:0{AMOUNT_DIGITS}d}"),
        alphabet=ALPHABET,
    )


def scan_line(account_number: str, invoice_number: str, amount_minor: int) -> str:
    """The line printed on the slip."""
    if amount_minor < 0 or amount_minor >= 10**AMOUNT_DIGITS:
        raise ValueError("the amount does not fit a scan line")
    for value in (account_number, invoice_number):
        if not value or re.search(r"\s", value):
            raise ValueError("account and invoice numbers on a scan line have no spaces")
    amount = f"{amount_minor:0{AMOUNT_DIGITS}d}"
    check = check_character(account_number, invoice_number, amount_minor)
    return f"{account_number.upper()} {invoice_number.upper()} {amount} {check}"


def scan_line_parse(text: str) -> ScanLine:
    """Read a typed or scanned line back. Runs of spaces are one space and
    case does not matter; anything else wrong is a ScanLineError saying
    what."""
    line = " ".join(str(text).upper().split())
    match = _SHAPE.match(line)
    if match is None:
        raise ScanLineError(
            "is not a scan line: expected account, invoice, a 10-digit amount and a "
            "check character, separated by spaces"
        )
    account, invoice, amount, check = match.groups()
    if not luhn.is_valid(_payload(account, invoice, amount) + check, alphabet=ALPHABET):
        raise ScanLineError(
            "the check character does not match: a character was misread or mistyped; "
            "type the line again or key the account, invoice and amount"
        )
    return ScanLine(account_number=account, invoice_number=invoice, amount_minor=int(amount))


def scan_line_in_text(text: str) -> ScanLine | None:
    """The first valid scan line inside free text (a bank file's remittance
    text), or None."""
    for match in _IN_TEXT.finditer(str(text).upper()):
        try:
            return scan_line_parse(" ".join(match.groups()))
        except ScanLineError:
            continue
    return None
