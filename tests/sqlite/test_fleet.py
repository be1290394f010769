"""``--targets`` on SQLite files: a fan-out run, its journal and --resume, the canary and the
failure budget, and status, validate, backup and rollback over many databases; through the
real ``ncm`` command."""

import json
import os
import signal
import sqlite3
import subprocess
import time

import pytest
from interrupt import NCM

from ncm_core.fleet.journal import events

USERS = '''"""Add users."""
from alembic import op


def upgrade() -> None:
    op.execute("CREATE TABLE users (id INTEGER PRIMARY KEY)")


def downgrade() -> None:
    op.execute("DROP TABLE users")
'''

ORDERS = USERS.replace("users", "orders").replace("Add orders", "Add orders")


def write_targets(project, tenants=("a", "b", "c", "d"), extra=""):
    (project / "migrations" / "001_users.py").write_text(USERS)
    (project / "migrations" / "002_orders.py").write_text(ORDERS)
    listed = ", ".join(f'"{t}"' for t in tenants)
    (project / "ncm.toml").write_text(f'''migration_directory = "migrations"

[targets.tenants]
url = "sqlite+aiosqlite:///{project}/t_{{tenant}}.db"
tenants = [{listed}]
{extra}''')


def tables(project, tenant):
    with sqlite3.connect(project / f"t_{tenant}.db") as conn:
        return {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
                if not row[0].startswith("ncm_")}


def break_target(project, tenant):
    """A database where 002 fails: its table is already there."""
    with sqlite3.connect(project / f"t_{tenant}.db") as conn:
        conn.execute("CREATE TABLE orders (x INTEGER)")


def run_json(ncm, *args, check=0):
    return json.loads(ncm("run", "--targets", "all", "--json", *args, check=check).stdout)


def statuses(report):
    return {t["name"]: t["status"] for t in report["targets"]}


def test_run_targets_migrates_every_target(project, ncm):
    write_targets(project)
    run_json(ncm, "--parallel", "2")
    assert all(tables(project, t) == {"users", "orders"} for t in "abcd")


def test_the_journal_says_each_target_is_done(project, ncm):
    write_targets(project)
    report = run_json(ncm)
    done = {e["target"] for e in events(project / "ncm-journal.jsonl", report["run_id"]) if e["event"] == "done"}
    assert done == {"tenants/a", "tenants/b", "tenants/c", "tenants/d"}


def test_off_a_terminal_each_finished_target_is_one_line(project, ncm):
    write_targets(project)
    out = ncm("run", "--targets", "all").stdout.splitlines()
    assert sorted(line.split()[1] for line in out[:-1]) == ["tenants/a", "tenants/b", "tenants/c", "tenants/d"]
    assert out[-1].startswith("4 target(s): 4 done")


def test_a_failed_target_fails_the_run(project, ncm):
    write_targets(project)
    break_target(project, "b")
    report = run_json(ncm, "--continue-on-error", check=1)
    assert statuses(report) == {"tenants/a": "done", "tenants/b": "failed", "tenants/c": "done", "tenants/d": "done"}


def test_the_failure_budget_stops_new_targets(project, ncm):
    write_targets(project)
    break_target(project, "a")
    report = run_json(ncm, "--parallel", "1", check=1)
    assert statuses(report) == {"tenants/a": "failed", "tenants/b": "not started", "tenants/c": "not started",
                                "tenants/d": "not started"}


def test_a_percentage_budget_lets_failures_below_it_pass(project, ncm):
    write_targets(project)
    break_target(project, "a")
    report = run_json(ncm, "--parallel", "1", "--max-failures", "50%", check=1)
    assert statuses(report)["tenants/d"] == "done"


def test_a_failed_canary_starts_no_other_target(project, ncm):
    write_targets(project, extra='\n[targets.groups]\ncanary = ["tenants/c"]\n')
    break_target(project, "c")
    report = run_json(ncm, "--canary", "1", "--continue-on-error", check=1)
    assert statuses(report) == {"tenants/a": "not started", "tenants/b": "not started", "tenants/c": "failed",
                                "tenants/d": "not started"}


def test_resume_skips_the_targets_done(project, ncm):
    write_targets(project)
    break_target(project, "b")
    first = run_json(ncm, "--continue-on-error", check=1)
    with sqlite3.connect(project / "t_b.db") as conn:
        conn.execute("DROP TABLE orders")
    ncm("repair", env={"MIGRATION_DATABASE_URL": f"sqlite+aiosqlite:///{project}/t_b.db"})
    ncm("run", "--targets", "all", "--resume", first["run_id"])
    started = [e["target"] for e in events(project / "ncm-journal.jsonl", first["run_id"]) if e["event"] == "started"]
    assert sorted(started) == ["tenants/a", "tenants/b", "tenants/b", "tenants/c", "tenants/d"]


def test_resume_of_an_unknown_run_is_refused(project, ncm):
    write_targets(project)
    done = ncm("run", "--targets", "all", "--resume", "nope", check=2)
    assert done.stderr == "error: --resume nope: the journal ncm-journal.jsonl has no run nope\n"


def test_an_unknown_group_is_one_line(project, ncm):
    write_targets(project)
    done = ncm("run", "--targets", "eu", check=2)
    assert done.stderr == "error: --targets: 'eu' is neither a group (all, tenants) nor a target\n"
    assert not (project / "t_a.db").exists()


def test_no_targets_table_is_one_line(project, ncm):
    done = ncm("status", "--targets", "all", check=2)
    assert done.stderr.startswith("error: no targets: add a [targets] table to ncm.toml or write targets.toml")


@pytest.mark.parametrize("option", [["--shard", "0/2"], ["--canary", "1"], ["--resume", "x"], ["--continue-on-error"]])
def test_fan_out_options_need_targets(project, ncm, option):
    done = ncm("run", *option, check=2)
    assert done.stderr == f"error: {option[0]} goes with --targets\n"


def test_a_targets_table_does_not_disturb_a_single_database_run(project, ncm):
    write_targets(project)
    done = ncm("run")
    assert "warning" not in done.stderr and "2 migration(s) applied" in done.stdout


def test_tenants_can_come_from_a_command(project, ncm):
    write_targets(project)
    text = (project / "ncm.toml").read_text().replace('tenants = ["a", "b", "c", "d"]',
                                                       'tenants_command = "printf \'x\\\\ny\\\\n\'"')
    (project / "ncm.toml").write_text(text)
    assert set(statuses(run_json(ncm))) == {"tenants/x", "tenants/y"}


def test_a_failing_tenants_command_is_one_line(project, ncm):
    write_targets(project)
    text = (project / "ncm.toml").read_text().replace('tenants = ["a", "b", "c", "d"]', 'tenants_command = "false"')
    (project / "ncm.toml").write_text(text)
    done = ncm("status", "--targets", "all", check=2)
    assert done.stderr == "error: ncm.toml [targets]: target tenants: tenants_command exited with 1: " \
                          "(no output on stderr)\n"


def test_tenants_can_come_from_a_query_on_a_control_database(project, ncm):
    write_targets(project)
    with sqlite3.connect(project / "control.db") as conn:
        conn.execute("CREATE TABLE tenants (name TEXT)")
        conn.executemany("INSERT INTO tenants VALUES (?)", [("p",), ("q",)])
    text = (project / "ncm.toml").read_text().replace(
        'tenants = ["a", "b", "c", "d"]',
        'tenants_query = "SELECT name FROM tenants ORDER BY name"\ntenants_database = "${CONTROL_URL}"')
    (project / "ncm.toml").write_text(text)
    report = json.loads(ncm("status", "--targets", "all", "--json",
                            env={"CONTROL_URL": f"sqlite+aiosqlite:///{project}/control.db"}).stdout)
    assert statuses(report) == {"tenants/p": "pending", "tenants/q": "pending"}


def test_status_targets_gives_one_row_per_target(project, ncm):
    write_targets(project)
    ncm("run", "--targets", "tenants/a,tenants/b")
    break_target(project, "c")
    ncm("run", "--targets", "tenants/c", check=1)
    report = json.loads(ncm("status", "--targets", "all", "--json").stdout)
    assert statuses(report) == {"tenants/a": "at head", "tenants/b": "at head", "tenants/c": "failed",
                                "tenants/d": "pending"}


def test_status_targets_summary_line_counts_states(project, ncm):
    write_targets(project)
    ncm("run", "--targets", "tenants/a")
    assert ncm("status", "--targets", "all").stdout.splitlines()[-1].startswith("4 target(s): 1 at head, 3 pending")


def test_status_targets_exit_code_gates_on_pending(project, ncm):
    write_targets(project)
    ncm("run", "--targets", "tenants/a")
    ncm("status", "--targets", "all", "--exit-code", check=3)


def test_an_unreachable_target_is_shown_and_its_password_never(project, ncm):
    write_targets(project, extra='\n[targets.far]\nurl = "postgresql+asyncpg://ncm:${FAR_PW}@127.0.0.1:1/x"\n')
    done = ncm("status", "--targets", "all", "--json", env={"FAR_PW": "s3cr3t-pw"}, check=4)
    assert statuses(json.loads(done.stdout))["far"] == "unreachable"
    assert "s3cr3t-pw" not in done.stdout + done.stderr


def test_validate_targets_fails_on_an_edited_migration(project, ncm):
    write_targets(project)
    ncm("run", "--targets", "tenants/a")
    (project / "migrations" / "001_users.py").write_text(USERS + "\n# edited\n")
    report = json.loads(ncm("validate", "--targets", "all", "--json", check=3).stdout)
    assert statuses(report) == {"tenants/a": "invalid", "tenants/b": "valid", "tenants/c": "valid",
                                "tenants/d": "valid"}


def test_backup_targets_backs_up_each_target(project, ncm):
    write_targets(project, tenants=("a", "b"))
    ncm("run", "--targets", "all")
    report = json.loads(ncm("backup", "--targets", "all", "--json").stdout)
    assert len({t["location"] for t in report["targets"]}) == 2


def test_rollback_targets_reverts_on_each_target(project, ncm):
    write_targets(project, tenants=("a", "b"))
    ncm("run", "--targets", "all")
    ncm("rollback", "--targets", "all", "--steps", "1", "--yes")
    assert tables(project, "a") == tables(project, "b") == {"users"}


def test_rollback_targets_off_a_terminal_asks_for_yes(project, ncm):
    write_targets(project, tenants=("a", "b"))
    ncm("run", "--targets", "all")
    done = ncm("rollback", "--targets", "all", "--steps", "1", check=2)
    assert done.stderr == "error: rollback on 2 target(s) (tenants/a, tenants/b): run it on a terminal to " \
                          "confirm, or pass --yes\n"
    assert tables(project, "a") == {"users", "orders"}


HOLDING = '''"""Add orders; on tenant b, waits while the file `hold` exists (and says it started)."""
import pathlib
import time

from alembic import op


def upgrade() -> None:
    project = pathlib.Path(__file__).parents[1]
    if "t_b.db" in str(op.get_bind().engine.url):
        (project / "entered").touch()
        while (project / "hold").exists():
            time.sleep(0.05)
    op.execute("CREATE TABLE orders (id INTEGER PRIMARY KEY)")


def downgrade() -> None:
    op.execute("DROP TABLE orders")
'''


def test_a_killed_run_is_taken_up_by_its_replacement(project, ncm):
    write_targets(project, tenants=("a", "b", "c"))
    (project / "migrations" / "002_orders.py").write_text(HOLDING)
    (project / "hold").touch()
    environ = {k: v for k, v in os.environ.items() if not k.startswith("MIGRATION_")}
    pod = subprocess.Popen([NCM, "run", "--targets", "all", "--parallel", "1", "--run-id", "job-1"], cwd=project,
                           env=environ, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    while not (project / "entered").exists():
        assert pod.poll() is None, "the run ended before tenant b's step"
        time.sleep(0.05)
    pod.send_signal(signal.SIGKILL)
    pod.wait()
    (project / "hold").unlink()
    ncm("run", "--targets", "all", "--run-id", "job-1")
    journal = events(project / "ncm-journal.jsonl", "job-1")
    assert [e["target"] for e in journal if e["event"] == "started"] == ["tenants/a", "tenants/b", "tenants/b",
                                                                          "tenants/c"]
    assert all(tables(project, t) == {"users", "orders"} for t in "abc")


def test_sigterm_lets_running_targets_finish_and_starts_no_other(project):
    write_targets(project, tenants=("a", "b", "c"))
    (project / "migrations" / "002_orders.py").write_text(HOLDING)
    (project / "hold").touch()
    environ = {k: v for k, v in os.environ.items() if not k.startswith("MIGRATION_")}
    pod = subprocess.Popen([NCM, "run", "--targets", "all", "--parallel", "1", "--run-id", "job-1"], cwd=project,
                           env=environ, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    while not (project / "entered").exists():
        assert pod.poll() is None, "the run ended before tenant b's step"
        time.sleep(0.05)
    pod.send_signal(signal.SIGTERM)
    (project / "hold").unlink()
    _, err = pod.communicate(timeout=120)
    assert pod.returncode == 143
    assert err.splitlines()[-1] == "error: stopped by SIGTERM: 2 target(s) done, 0 failed, 1 not started"
    assert tables(project, "b") == {"users", "orders"} and not (project / "t_c.db").exists()


@pytest.mark.parametrize("args", [["run"], ["status"], ["validate"], ["lint"], ["backup"],
                                  ["rollback", "--steps", "1", "--yes"]])
def test_targets_json_matches_its_documented_schema(project, ncm, args):
    from json_schemas import schema_errors

    write_targets(project, tenants=("a", "b"))
    if args[0] != "run":
        ncm("run", "--targets", "all")
    report = json.loads(ncm(*args, "--targets", "all", "--json").stdout)
    assert report["targets"] and schema_errors("ncm --targets", report) == []


def test_status_targets_names_the_holder_of_a_targets_lock(project, ncm):
    write_targets(project, tenants=("a", "b"))
    (project / "migrations" / "002_orders.py").write_text(HOLDING)
    (project / "hold").touch()
    environ = {k: v for k, v in os.environ.items() if not k.startswith("MIGRATION_")}
    pod = subprocess.Popen([NCM, "run", "--targets", "tenants/b"], cwd=project, env=environ,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while not (project / "entered").exists():
            assert pod.poll() is None, "the run ended before tenant b's step"
            time.sleep(0.05)
        report = json.loads(ncm("status", "--targets", "all", "--json").stdout)
    finally:
        (project / "hold").unlink()
        pod.wait(timeout=120)
    rows = {t["name"]: t for t in report["targets"]}
    assert rows["tenants/b"]["status"] == "locked" and rows["tenants/b"]["detail"].startswith("locked by pid ")
    assert rows["tenants/a"]["status"] == "pending"


DROP_USERS = '''"""Drop users."""
from alembic import op


def upgrade() -> None:
    op.drop_table("users")


def downgrade() -> None:
    op.execute("CREATE TABLE users (id INTEGER PRIMARY KEY)")
'''


def test_lint_targets_blocks_the_targets_whose_pending_migrations_drop_a_table(project, ncm):
    write_targets(project, tenants=("a", "b"))
    ncm("run", "--targets", "tenants/a")
    (project / "migrations" / "003_drop_users.py").write_text(DROP_USERS)
    report = json.loads(ncm("lint", "--targets", "all", "--json", check=3).stdout)
    rows = {t["name"]: t for t in report["targets"]}
    assert rows["tenants/a"]["status"] == "blocked" and "DS" in rows["tenants/a"]["detail"]
