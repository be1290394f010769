"""``ncm lint --format sarif`` is a SARIF 2.1.0 log, checked against the OASIS schema vendored
in tests/sarif (its README names the source)."""

import json
from pathlib import Path

from jsonschema import Draft4Validator, FormatChecker

SCHEMA = json.loads((Path(__file__).parents[1] / "sarif" / "sarif-schema-2.1.0.json").read_text())
TABLES = '''"""Tables."""
from alembic import op


def upgrade():
    op.execute("CREATE TABLE users (id INTEGER PRIMARY KEY, email VARCHAR(100))")
'''
CHANGE = '''"""Change."""
from alembic import op


def upgrade():
    op.drop_column("users", "email")
    op.create_index("ux", "users", ["id"], unique=True)  # ncm: allow MF101 -- ids are unique
    op.execute("VACUUM")
'''


def sarif(project, ncm):
    (project / "migrations" / "001_tables.py").write_text(TABLES)
    ncm("run")
    (project / "migrations" / "002_change.py").write_text(CHANGE)
    return json.loads(ncm("lint", "--format", "sarif", check=3).stdout)


def test_the_sarif_log_validates_against_the_sarif_2_1_0_schema(project, ncm):
    log = sarif(project, ncm)
    errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
              for e in Draft4Validator(SCHEMA, format_checker=FormatChecker()).iter_errors(log)]
    assert errors == []
    assert log["version"] == "2.1.0"


def test_each_finding_is_a_result_at_its_file_and_line_with_its_rule(project, ncm):
    (run,) = sarif(project, ncm)["runs"]
    results = {r["ruleId"]: r for r in run["results"]}
    assert set(results) == {"DS103", "MF101", "NA101"}
    where = results["DS103"]["locations"][0]["physicalLocation"]
    assert where == {"artifactLocation": {"uri": "migrations/002_change.py"}, "region": {"startLine": 6}}
    assert results["DS103"]["level"] == "error" and results["NA101"]["level"] == "warning"
    rules = run["tool"]["driver"]["rules"]
    assert all(rules[r["ruleIndex"]]["id"] == r["ruleId"] for r in run["results"])


def test_an_allowed_finding_is_a_suppressed_result_with_its_justification(project, ncm):
    (run,) = sarif(project, ncm)["runs"]
    (allowed,) = [r for r in run["results"] if r["ruleId"] == "MF101"]
    assert allowed["suppressions"] == [{"kind": "inSource", "justification": "ids are unique"}]
