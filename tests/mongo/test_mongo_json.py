"""MongoDB's --json outputs, where the backend adds its own fields, against docs/json.md."""

import json

from json_schemas import schema_errors


def test_check_json_with_mongodbs_topology_and_lock_matches_its_documented_schema(mongo_url, ncm):
    output = json.loads(ncm("check", "--json", env={"MIGRATION_DATABASE_URL": mongo_url}).stdout)
    assert schema_errors("ncm check", output) == [] and output["lock"] == "free", output


def test_status_json_matches_its_documented_schema(mongo_url, ncm):
    output = json.loads(ncm("status", "--json", env={"MIGRATION_DATABASE_URL": mongo_url}).stdout)
    assert schema_errors("ncm status", output) == [] and output["backend"] == "mongodb", output
