import pytest


@pytest.fixture
def url(tmp_path):
    """A SQLite database file of the test's own (not created until ncm connects)."""
    return f"sqlite+aiosqlite:///{tmp_path}/app.db"
