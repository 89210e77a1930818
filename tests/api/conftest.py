from tests.apiclient import Api, api  # noqa: F401 - fixtures
