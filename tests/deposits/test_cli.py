"""`isocnet bank-import FILE`: the format from the file's first record, a
summary line, and a clear error naming the file."""

import io

import pytest
from django.core.management import CommandError, call_command

from isocnet.payments.models import Payment
from tests.deposits.bankfiles import Item, bai2_file
from tests.deposits.helpers import check_payer, slip_of

pytestmark = pytest.mark.django_db


def test_bank_import_posts_a_bai2_file_once(tmp_path, today):
    _, invoice = check_payer()
    path = tmp_path / "deposits-2026-11-20.bai"
    path.write_text(
        bai2_file([Item("BR7", 4995, check_number="88", scan_line=slip_of(invoice))], today)
    )
    out = io.StringIO()
    call_command("bank-import", str(path), stdout=out)
    assert out.getvalue().strip() == (
        "deposits-2026-11-20.bai (bai2): 1 items, 1 posted (49.95), 0 to the exceptions queue "
        "(0.00), 0 returned, 0 already imported, 0 skipped"
    )
    out = io.StringIO()
    call_command("bank-import", str(path), stdout=out)
    assert "0 posted (0.00)" in out.getvalue() and "1 already imported" in out.getvalue()
    assert Payment.objects.get().reference == "check #88"


def test_bank_import_refuses_a_broken_file_naming_it(tmp_path, today):
    path = tmp_path / "lockbox.csv"
    path.write_text("deposit_date,amount\n2026-11-20,1.00\n")
    with pytest.raises(
        CommandError, match=r"lockbox\.csv: the header has no item_reference column"
    ):
        call_command("bank-import", str(path))
