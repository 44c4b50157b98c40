from tests.backoffice.conftest import signed_in, staff  # noqa: F401 - the staff fixtures
