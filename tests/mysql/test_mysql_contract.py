from ncm_sql.testing import SQLContract


class TestMySQLContract(SQLContract):
    """The shared contract, unchanged; conftest.py gives each test a fresh database."""
