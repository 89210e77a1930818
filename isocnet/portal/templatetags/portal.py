from django import template

from isocnet.core import formatting
from isocnet.core.money import Money

register = template.Library()


@register.filter
def money(value) -> str:
    if value is None or value == "":
        return ""
    return formatting.money(value)


@register.filter
def minor_money(minor: int, currency: str) -> str:
    return formatting.money(Money.from_minor(int(minor or 0), currency))


@register.filter
def longdate(value) -> str:
    return formatting.date(value) if value else ""


@register.filter
def status_class(status: str) -> str:
    return {
        "paid": "ok",
        "unpaid": "due",
        "partially_paid": "due",
        "void": "muted",
        "refunded": "muted",
        "succeeded": "ok",
        "voided": "muted",
    }.get(status, "muted")
