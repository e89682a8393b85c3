"""Browser tests reuse the web fixtures: the migrated app and the open test campaign."""
from tests.web.conftest import app, setup  # noqa: F401
