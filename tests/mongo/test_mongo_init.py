"""`ncm init --database mongodb`: the starter project validates and runs against the real server."""

from starter_project import init_validate_and_run


def test_init_writes_a_mongodb_project_that_validates_and_runs(tmp_path, mongo_url):
    init_validate_and_run(tmp_path, "mongodb", mongo_url)
