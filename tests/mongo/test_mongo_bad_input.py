"""Bad input through the real `ncm` command on MongoDB: exit 2 before anything is created."""

import pytest
from pymongo import MongoClient


@pytest.mark.parametrize("command", [["run"], ["status"], ["validate"], ["rollback", "--steps", "1"], ["repair"],
                                     ["baseline"]])
def test_a_missing_migration_directory_is_exit_2_and_creates_no_collection(mongo_url, project, ncm, command):
    (project / "migrations").rmdir()
    done = ncm(*command, env={"MIGRATION_DATABASE_URL": mongo_url}, check=2)
    assert "migration directory migrations does not exist" in done.stderr
    with MongoClient(mongo_url, serverSelectionTimeoutMS=5000) as client:
        assert client.get_default_database().list_collection_names() == []
