"""The back office: the Django admin over every model, one module per
business area. Staff change customers and record payments through the same
services as the API (validated, audited); money records are read-only here
and change only through services; issued invoices never change."""

from isocnet.backoffice.admin import (  # noqa: F401 - registers the model admins
    catalog,
    collections,
    core,
    customers,
    deposits,
    invoicing,
    network,
    notifications,
    payments,
    staff,
    webhooks,
)
