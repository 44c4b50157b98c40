from tests.backoffice.conftest import export_file, signed_in, staff  # noqa: F401 - the staff fixtures
