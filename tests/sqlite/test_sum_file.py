"""migrations/ncm.sum through the real `ncm`: written by create, hash and repair; drift
reported by validate and run (a warning in development, an error elsewhere); a conflict in
git when two branches each add a migration."""

import json
import subprocess

USERS = '''"""Add users table."""
from alembic import op


def upgrade() -> None:
    op.execute("CREATE TABLE users (id INTEGER PRIMARY KEY)")


def downgrade() -> None:
    op.execute("DROP TABLE users")
'''


def sum_lines(project):
    return (project / "migrations" / "ncm.sum").read_text().splitlines()


def sum_problems(ncm, *args, check=0):
    done = ncm(*args, "validate", "--json", check=check)
    return [p for p in json.loads(done.stdout)["problems"] if p["validator"] == "sum-file"]


def test_create_writes_the_sum_with_the_whole_hash_first_and_one_line_per_file(project, ncm):
    ncm("create", "Add users")
    ncm("create", "Add orders")
    first, *files = sum_lines(project)
    names = sorted(p.name for p in (project / "migrations").glob("*.py"))
    assert first.startswith("h1:") and [line.split(" ")[0] for line in files] == names
    assert all(line.split(" ")[1].startswith("h1:") for line in files)


def test_create_keeps_flagging_an_edit_made_to_another_file_before_it(project, ncm):
    ncm("create", "Add users")
    path = next((project / "migrations").glob("*.py"))
    path.write_text(path.read_text() + "# edited\n")
    ncm("create", "Add orders")
    (problem,) = sum_problems(ncm)
    assert f"{path.name}: changed since ncm.sum was written" in problem["message"]


def test_create_refuses_while_the_sum_has_a_merge_conflict_and_writes_nothing(project, ncm):
    ncm("create", "Add users")
    path = project / "migrations" / "ncm.sum"
    path.write_text("<<<<<<< HEAD\n" + path.read_text())
    before = sorted(p.name for p in (project / "migrations").iterdir())
    done = ncm("create", "Add orders", check=2)
    assert done.stderr.startswith("error: migrations/ncm.sum: line 1 is not the `h1:` hash of the whole: resolve it")
    assert sorted(p.name for p in (project / "migrations").iterdir()) == before


def test_sum_file_is_not_warned_about_as_a_file_ncm_skips(project, ncm):
    ncm("create", "Add users")
    assert "ignored" not in ncm("run").stderr


def test_project_without_a_sum_gets_a_hint_and_is_valid(project, ncm):
    (project / "migrations" / "001_users.py").write_text(USERS)
    (problem,) = sum_problems(ncm, "--environment", "production")
    assert problem["severity"] == "hint" and "ncm hash" in problem["message"]


def test_validate_warns_in_development_about_a_file_added_without_updating_the_sum(project, ncm):
    ncm("create", "Add users")
    (project / "migrations" / "002_orders.py").write_text(USERS)
    (problem,) = sum_problems(ncm)
    assert problem["severity"] == "warning" and "002_orders.py: added without updating ncm.sum" in problem["message"]


def test_validate_fails_outside_development_on_a_file_changed_since_the_sum(project, ncm):
    ncm("create", "Add users")
    path = next((project / "migrations").glob("*.py"))
    path.write_text(path.read_text() + "# edited\n")
    (problem,) = sum_problems(ncm, "--environment", "staging", check=3)
    assert problem["severity"] == "error" and f"{path.name}: changed since ncm.sum was written" in problem["message"]


def test_validate_reports_a_file_removed_from_the_directory_but_listed_in_the_sum(project, ncm):
    ncm("create", "Add users")
    path = next((project / "migrations").glob("*.py"))
    path.unlink()
    (problem,) = sum_problems(ncm)
    assert f"{path.name}: listed in ncm.sum but its file is gone" in problem["message"]


def test_run_warns_in_development_and_applies(project, ncm):
    ncm("create", "Add users")
    (project / "migrations" / "002_orders.py").write_text(USERS)
    done = ncm("run")
    assert "warning: [sum-file] migrations/002_orders.py: added without updating ncm.sum" in done.stderr
    assert "2 migration(s) applied" in done.stdout


def test_run_refuses_in_production_when_the_sum_is_stale_and_applies_nothing(project, ncm):
    ncm("create", "Add users")
    (project / "migrations" / "002_orders.py").write_text(USERS)
    done = ncm("--environment", "production", "run", check=3)
    assert "002_orders.py: added without updating ncm.sum" in done.stderr
    assert json.loads(ncm("status", "--json").stdout)["pending"] == 2


def test_hash_rewrites_the_sum_so_validate_is_clean_again(project, ncm):
    ncm("create", "Add users")
    (project / "migrations" / "002_orders.py").write_text(USERS)
    assert "wrote migrations/ncm.sum (2 migration file(s))" in ncm("hash").stdout
    assert sum_problems(ncm, "--environment", "production") == []
    assert any(line.startswith("002_orders.py h1:") for line in sum_lines(project))


def test_repair_updates_the_sum(project, ncm):
    (project / "migrations" / "001_users.py").write_text(USERS)
    ncm("run")
    ncm("repair")
    assert [line.split(" ")[0] for line in sum_lines(project)[1:]] == ["001_users.py"]
    assert sum_problems(ncm, "--environment", "production") == []


def test_a_merge_conflict_left_in_the_sum_is_reported_naming_the_line(project, ncm):
    ncm("create", "Add users")
    path = project / "migrations" / "ncm.sum"
    path.write_text("<<<<<<< HEAD\n" + path.read_text())
    (problem,) = sum_problems(ncm, "--environment", "production", check=3)
    assert "ncm.sum: line 1 is not the `h1:` hash of the whole" in problem["message"]


def test_a_sum_edited_by_hand_does_not_match_its_first_line(project, ncm):
    ncm("create", "Add users")
    path = project / "migrations" / "ncm.sum"
    path.write_text(path.read_text() + "999_extra.py h1:AAAA\n")
    (problem,) = sum_problems(ncm)
    assert "line 1 does not match the lines below it" in problem["message"]


def test_two_branches_that_each_create_a_migration_conflict_in_the_sum(project, ncm):
    def git(*args, check=True):
        return subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args], cwd=project,
                              capture_output=True, text=True, check=check)

    git("init", "-q", "-b", "main")
    ncm("create", "Add users")
    git("add", "migrations")
    git("commit", "-qm", "users")
    git("checkout", "-qb", "orders")
    ncm("create", "Add orders")
    git("add", "migrations")
    git("commit", "-qm", "orders")
    git("checkout", "-q", "main")
    ncm("create", "Add coupons")
    git("add", "migrations")
    git("commit", "-qm", "coupons")
    merged = git("merge", "orders", check=False)
    assert merged.returncode != 0 and "CONFLICT (content): Merge conflict in migrations/ncm.sum" in merged.stdout
