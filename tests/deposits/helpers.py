"""Check payers with open invoices, and their slips' scan lines."""

from isocnet.invoicing.scanline import scan_line
from tests.factories import make_customer, make_invoice


def check_payer(name=None, price="49.95"):
    customer = make_customer(name=name) if name else make_customer()
    invoice = make_invoice(customer, lines=(("Fiber 100 Mbps", price, None),))
    return customer, invoice


def slip_of(invoice) -> str:
    """The scan line printed on the invoice's remittance slip."""
    return scan_line(invoice.customer.account_number, invoice.number, invoice.balance_minor)
