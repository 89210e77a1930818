from tests.network.radius import freeradius, nas_listener, network  # noqa: F401 - fixtures
