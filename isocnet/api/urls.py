from isocnet.api.v1 import (
    billing_ops,
    billing_runs,
    collections,
    customers,
    deposits,
    invoices,
    network,
    payments,
    plans,
    reports,
    subscriptions,
)
from isocnet.api.v1.base import api

for module in (
    plans,
    customers,
    subscriptions,
    invoices,
    payments,
    billing_runs,
    billing_ops,
    collections,
    deposits,
    network,
    reports,
):
    api.add_router("", module.router)

urlpatterns = api.urls
