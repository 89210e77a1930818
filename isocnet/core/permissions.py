"""Staff roles, enforced in the services (so the back office, the API and
the CLI cannot differ):

- support agent: reads only;
- billing clerk: records payments, sends notices, keeps customer details;
- billing manager: everything, including refunds, voids, credit notes,
  credit, charges, services and billing runs.

An actor without a role (the system, the billing run, API keys with write
scope, the CLI, a customer in the portal acting on their own account) is
not limited here: API keys have scopes, customers reach only their own
account's services through the portal.
"""

from __future__ import annotations

from isocnet.core.errors import Forbidden

SUPPORT, CLERK, MANAGER = "support", "clerk", "manager"
GROUPS = {"Billing manager": MANAGER, "Billing clerk": CLERK, "Support agent": SUPPORT}
ROLE_NAMES = {SUPPORT: "support agent", CLERK: "billing clerk", MANAGER: "billing manager"}

PERMISSIONS = {
    "payment.record": "record payments",
    "notice.send": "send notices",
    "customer.edit": "change customer details",
    "payment.return": "record returned payments",
    "card.manage": "add or remove cards",
    "card.charge": "charge cards",
    "refund": "refund payments",
    "invoice.create": "create, issue or change invoices and charges",
    "invoice.void": "void invoices",
    "credit_note": "issue credit notes",
    "credit.adjust": "grant, apply or remove account credit",
    "service.change": "add or change services",
    "billing.run": "run billing",
    "import": "import customers",
    "catalog.edit": "change plans and tax rates",
    "policy.edit": "change the collections policy",
    "late_fee.waive": "waive late fees",
    "promise": "record promises to pay and disputes",
    "webhooks.manage": "manage webhook endpoints",
    "network.repair": "repair the network's drift",
}
ALLOWED = {
    SUPPORT: frozenset(),
    CLERK: frozenset({"payment.record", "notice.send", "customer.edit", "promise"}),
    MANAGER: frozenset(PERMISSIONS),
}


def may(actor, permission: str) -> bool:
    if permission not in PERMISSIONS:
        raise KeyError(permission)
    role = getattr(actor, "role", None)
    return role is None or permission in ALLOWED[role]


def require(actor, permission: str) -> None:
    if not may(actor, permission):
        raise Forbidden(
            f"a {ROLE_NAMES[actor.role]} may not {PERMISSIONS[permission]}; ask a billing manager"
        )


def role_of(user) -> str:
    """A staff user's role: a superuser is a manager; otherwise the highest
    of their groups; a staff member in no group reads only."""
    if user.is_superuser:
        return MANAGER
    names = set(user.groups.values_list("name", flat=True))
    for group, role in GROUPS.items():  # highest first
        if group in names:
            return role
    return SUPPORT
