"""`ncm init --database mysql`: the starter project validates and runs against the real server."""

from starter_project import init_validate_and_run


def test_init_writes_a_(tmp_path, database_url):
    init_validate_and_run(tmp_path, "mysql", database_url)
