"""A fresh, empty MySQL/MariaDB database per test, made on the server NCM_TEST_MYSQL_URL names."""

import aiomysql.connection
import pytest

from servers import server_fixtures

_fixtures = server_fixtures("mysql")
server_url = _fixtures.server_url
admin = _fixtures.admin
database_url = _fixtures.database_url
unreachable_url = _fixtures.unreachable_url
ncm = _fixtures.ncm


@pytest.fixture
def queries(monkeypatch) -> list[str]:
    """Every query ncm's connections send, as the server receives it."""
    sent: list[str] = []
    execute = aiomysql.connection.Connection._execute_command

    async def spy(self, command, sql):
        sent.append(sql.decode() if isinstance(sql, bytes) else str(sql))
        return await execute(self, command, sql)

    monkeypatch.setattr(aiomysql.connection.Connection, "_execute_command", spy)
    return sent
