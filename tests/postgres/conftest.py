"""A fresh, empty PostgreSQL database per test, made on the server NCM_TEST_POSTGRES_URL names."""

from servers import server_fixtures

_fixtures = server_fixtures("postgresql")
server_url = _fixtures.server_url
admin = _fixtures.admin
database_url = _fixtures.database_url
unreachable_url = _fixtures.unreachable_url
ncm = _fixtures.ncm
