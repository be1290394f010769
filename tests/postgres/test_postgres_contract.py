from ncm_sql.testing import SQLContract


class TestPostgresContract(SQLContract):
    """The shared contract, unchanged; conftest.py gives each test a fresh database."""
