"""Signed outbound webhooks (the Standard Webhooks scheme) for the other
systems of an ISP: routers scripted by their owners, UISP, a CRM,
accounting (docs/network.md)."""
