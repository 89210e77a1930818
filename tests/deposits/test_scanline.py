"""The remittance slip's scan line: printed on every check payer's slip,
read back exactly, and a single misread character is always caught."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from isocnet.invoicing.scanline import (
    ALPHABET,
    ScanLineError,
    scan_line,
    scan_line_in_text,
    scan_line_parse,
)


def test_a_scan_line_reads_back_what_it_holds():
    line = scan_line("C000123", "2026-000123", 4995)
    assert line == "C000123 2026-000123 0000004995 7"
    parsed = scan_line_parse("  c000123   2026-000123 0000004995 7 ")  # as typed
    assert (parsed.account_number, parsed.invoice_number, parsed.amount_minor) == (
        "C000123",
        "2026-000123",
        4995,
    )


def test_one_digit_wrong_is_caught_by_the_check_character():
    line = scan_line("C000123", "2026-000123", 4995)
    misread = line.replace("0000004995", "0000004996")
    with pytest.raises(ScanLineError, match="check character does not match"):
        scan_line_parse(misread)


@given(
    account=st.integers(1, 999_999),
    invoice=st.integers(1, 999_999),
    amount=st.integers(1, 10**9),
    data=st.data(),
)
def test_every_single_character_substitution_is_caught(account, invoice, amount, data):
    line = scan_line(f"C{account:06d}", f"2026-{invoice:06d}", amount)
    positions = [i for i, ch in enumerate(line) if ch not in " -"]
    at = data.draw(st.sampled_from(positions))
    wrong = data.draw(st.sampled_from([c for c in ALPHABET if c != line[at]]))
    if line[at].isdigit() and not wrong.isdigit() and at >= len(line) - 13 and at < len(line) - 2:
        wrong = str((int(line[at]) + 1) % 10)  # the amount field is digits only
    misread = line[:at] + wrong + line[at + 1 :]
    with pytest.raises(ScanLineError):
        scan_line_parse(misread)


def test_not_a_scan_line_says_what_is_expected():
    with pytest.raises(ScanLineError, match="10-digit amount"):
        scan_line_parse("C000123 49.95")


def test_found_inside_a_bank_file_text():
    line = scan_line("C000042", "2026-000900", 12000)
    assert str(scan_line_in_text(f"REMIT {line} NAME J SMITH")) == line
    assert scan_line_in_text("REMIT C000042 2026-000900 0000012000 X") is None
