"""A fresh, empty MySQL/MariaDB database per test, made on the server NCM_TEST_MYSQL_URL names."""

from servers import server_fixtures

_fixtures = server_fixtures("mysql")
server_url = _fixtures.server_url
admin = _fixtures.admin
database_url = _fixtures.database_url
unreachable_url = _fixtures.unreachable_url
ncm = _fixtures.ncm
