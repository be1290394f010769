import pytest

from ncm_core.testing.contract import HistoryReaderContract
from ncm_sql.testing import SQLContract


class TestSQLiteContract(SQLContract, HistoryReaderContract):
    @pytest.fixture
    def database_url(self, tmp_path):
        return f"sqlite+aiosqlite:///{tmp_path}/contract.db"

    @pytest.fixture
    def unreachable_url(self, tmp_path):
        return f"sqlite+aiosqlite:///{tmp_path}/no/such/dir/contract.db"
