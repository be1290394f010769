from ncm_core.testing.contract import HistoryReaderContract
from ncm_sql.testing import SQLContract


class TestPostgresContract(SQLContract, HistoryReaderContract):
    """The shared contract, unchanged; conftest.py gives each test a fresh database."""
