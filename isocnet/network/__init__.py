"""The network follows billing: what the network knows a service by (a
PPPoE/IPoE username, a MAC or circuit id, the plan's speed profile, a
static IP), FreeRADIUS's SQL tables kept in step, live sessions cut or
changed through RFC 5176 Disconnect/CoA requests, and the drift check
between billing, RADIUS and the sessions (docs/network.md)."""
