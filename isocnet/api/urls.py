from isocnet.api.v1 import customers, plans, subscriptions
from isocnet.api.v1.base import api

api.add_router("", plans.router)
api.add_router("", customers.router)
api.add_router("", subscriptions.router)

urlpatterns = api.urls
