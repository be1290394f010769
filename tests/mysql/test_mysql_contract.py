from ncm_core.testing.contract import HistoryReaderContract
from ncm_sql.testing import SQLContract


class TestMySQLContract(SQLContract, HistoryReaderContract):
    """The shared contract, unchanged; conftest.py gives each test a fresh database."""
