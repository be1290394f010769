"""Lint on run: in production ``ncm run`` lints its plan first and refuses error-level
findings unless they are allowed; the decision goes to the audit log."""

import json

USERS = '''"""Users."""
from alembic import op


def upgrade():
    op.execute("CREATE TABLE users (id INTEGER PRIMARY KEY, email VARCHAR(100))")
'''
DROP = '''"""Drop the email."""
from alembic import op


def upgrade():
    op.drop_column("users", "email"){comment}
'''
PRODUCTION = {"MIGRATION_ENVIRONMENT": "production", "MIGRATION_AUDIT_ENABLED": "true"}


def planned(project, ncm, comment=""):
    (project / "migrations" / "001_users.py").write_text(USERS)
    ncm("run", env=PRODUCTION)
    (project / "migrations" / "002_drop.py").write_text(DROP.format(comment=comment))


def states(ncm):
    return {m["version"]: m["state"] for m in json.loads(ncm("status", "--json").stdout)["migrations"]}


def lint_audit(ncm):
    audit = json.loads(ncm("history", "--audit", "--json", env=PRODUCTION).stdout)["audit"]
    return [(a["outcome"], a["details"]) for a in audit if a["action"] == "lint"]


def test_production_refuses_a_plan_with_an_error_level_finding_and_changes_nothing(project, ncm):
    planned(project, ncm)
    done = ncm("run", env=PRODUCTION, check=3)
    assert "refusing to run in production: 1 error-level lint finding(s): DS103 at migrations/002_drop.py:6" \
        in done.stderr
    assert states(ncm)["002_drop"] == "pending"
    assert lint_audit(ncm)[-1] == ("refused", "refused in production: DS103 at migrations/002_drop.py:6")


def test_allow_lets_the_reviewed_code_through_and_the_audit_log_says_so(project, ncm):
    planned(project, ncm)
    ncm("run", "--allow", "DS103", env=PRODUCTION)
    assert states(ncm)["002_drop"] == "applied"
    assert lint_audit(ncm)[-1] == ("ok", "passed in production; allowed by --allow: DS103 at migrations/002_drop.py:6")


def test_allowing_another_code_still_refuses(project, ncm):
    planned(project, ncm)
    ncm("run", "--allow", "DS102", env=PRODUCTION, check=3)


def test_an_allowance_in_the_file_passes_the_lint(project, ncm):
    planned(project, ncm, comment="  # ncm: allow DS103 -- nothing reads it since 2.4")
    ncm("run", env=PRODUCTION)
    assert states(ncm)["002_drop"] == "applied"


def test_development_runs_without_linting(project, ncm):
    planned(project, ncm)
    before = lint_audit(ncm)
    ncm("run", env={"MIGRATION_ENVIRONMENT": "development", "MIGRATION_AUDIT_ENABLED": "true"})
    assert states(ncm)["002_drop"] == "applied" and lint_audit(ncm) == before


def test_on_run_names_the_environments_that_lint(project, ncm):
    planned(project, ncm)
    (project / "ncm.toml").write_text('[lint]\non_run = ["staging"]\n')
    ncm("run", env=PRODUCTION)
    assert states(ncm)["002_drop"] == "applied"
    (project / "migrations" / "003_drop.py").write_text(DROP.format(comment="").replace('"email"', '"id"'))
    ncm("run", env={**PRODUCTION, "MIGRATION_ENVIRONMENT": "staging"}, check=3)
