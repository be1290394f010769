"""``log_file`` / MIGRATION_LOG_FILE on SQLite: every run and rollback, as text or JSON lines."""

import re

import pytest

from log_file_checks import events, write_migrations

TIME = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z"


def test_a_text_log_has_the_run_start_each_step_with_its_duration_and_the_end(ncm, project):
    write_migrations(project / "migrations")
    ncm("run", env={"MIGRATION_LOG_FILE": "migration.log"})
    lines = (project / "migration.log").read_text(encoding="utf-8").splitlines()
    expected = [r"INFO  run start: 1 migration\(s\) to apply \(001_users\) on sqlite\+aiosqlite:///\S+/app\.db, "
                r"environment development, by pid \d+ on \S+, ncm \S+",
                r"INFO  001_users: applying \(schema\)",
                r"INFO  001_users: applied in \d+ ms",
                r"INFO  run end: ok in \d+ ms \(applied 1\)"]
    assert len(lines) == len(expected)
    for line, pattern in zip(lines, expected):
        assert re.fullmatch(f"{TIME} {pattern}", line), line


def test_a_jsonl_log_has_one_object_per_event(ncm, project):
    write_migrations(project / "migrations")
    ncm("run", env={"MIGRATION_LOG_FILE": "logs/migration.jsonl"})
    logged = events(project / "logs" / "migration.jsonl")
    assert [e["event"] for e in logged] == ["run_start", "migration_start", "migration_end", "run_end"]
    assert logged[0]["migrations"] == ["001_users"] and logged[0]["direction"] == "up"
    assert logged[2]["status"] == "applied" and isinstance(logged[2]["duration_ms"], int)
    assert logged[3]["outcome"] == "ok" and logged[3]["counts"] == {"applied": 1}
    assert all(re.fullmatch(TIME, e["time"]) for e in logged)


def test_a_failure_is_logged_with_its_error_and_statement(ncm, project):
    write_migrations(project / "migrations", failing=True)
    ncm("run", env={"MIGRATION_LOG_FILE": "migration.log"}, check=1)
    log = (project / "migration.log").read_text(encoding="utf-8").splitlines()
    failed = next(line for line in log if " ERROR 002_seed" in line)
    assert "failed applying it after" in failed and "UNIQUE constraint failed" in failed
    assert "statement: INSERT INTO users (id, name) VALUES (1, 'bob')" in failed
    assert " ERROR run end: failed in " in log[-1] and "(applied 1, failed 1)" in log[-1]


def test_a_failure_in_a_jsonl_log_has_the_error_and_statement_fields(ncm, project):
    write_migrations(project / "migrations", failing=True)
    ncm("run", env={"MIGRATION_LOG_FILE": "migration.jsonl"}, check=1)
    failed = next(e for e in events(project / "migration.jsonl") if e["event"] == "migration_failed")
    assert failed["level"] == "ERROR" and failed["version"] == "002_seed"
    assert "UNIQUE constraint failed" in failed["error"]
    assert failed["statement"] == "INSERT INTO users (id, name) VALUES (1, 'bob')"


def test_a_rollback_is_logged_like_a_run(ncm, project):
    write_migrations(project / "migrations")
    ncm("run")
    ncm("rollback", "--steps", "1", env={"MIGRATION_LOG_FILE": "migration.jsonl"})
    logged = events(project / "migration.jsonl")
    assert [(e["event"], e.get("status") or e.get("outcome")) for e in logged] == [
        ("rollback_start", None), ("migration_start", None), ("migration_end", "reverted"),
        ("rollback_end", "ok")]
    assert all(e["direction"] == "down" for e in logged)


def test_runs_append_to_the_log_set_in_ncm_toml(ncm, project):
    (project / "ncm.toml").write_text('log_file = "migration.log"\n', encoding="utf-8")
    write_migrations(project / "migrations")
    ncm("run")
    ncm("rollback", "--steps", "1")
    text = (project / "migration.log").read_text(encoding="utf-8")
    assert text.count(" run start: ") == 1 and text.count(" rollback start: ") == 1


@pytest.mark.parametrize("name", ["migration.log", "migration.jsonl"])
def test_the_encryption_key_is_never_written(ncm, project, name):
    key = "k3y-that-must-not-leak"
    (project / "migrations" / "001_leaky.py").write_text(
        "import os\n\ndef upgrade():\n    raise RuntimeError('key is ' + os.environ['MIGRATION_ENCRYPTION_KEY'])\n",
        encoding="utf-8")
    ncm("run", env={"MIGRATION_LOG_FILE": name, "MIGRATION_ENCRYPTION_KEY": key}, check=1)
    text = (project / name).read_text(encoding="utf-8")
    assert "key is ***" in text and key not in text


def test_a_log_file_that_cannot_be_written_is_one_error_and_nothing_runs(ncm, project):
    write_migrations(project / "migrations")
    (project / "logs").write_text("a file where the log's directory should be", encoding="utf-8")
    done = ncm("run", env={"MIGRATION_LOG_FILE": "logs/migration.log"}, check=2)
    assert done.stderr.startswith("error: log_file logs/migration.log cannot be written")
    assert done.stderr.count("\n") == 1
    assert "pending" in ncm("status").stdout


def test_nothing_is_written_without_log_file(ncm, project):
    write_migrations(project / "migrations")
    ncm("run")
    assert not [p.name for p in project.iterdir() if "log" in p.name]


def test_a_refused_run_is_one_line_with_the_reason(ncm, project):
    write_migrations(project / "migrations", failing=True)
    ncm("run", check=1)
    ncm("run", env={"MIGRATION_LOG_FILE": "migration.jsonl"}, check=3)
    logged = events(project / "migration.jsonl")
    assert [(e["event"], e["level"]) for e in logged] == [("run_refused", "ERROR")]
    assert logged[0]["error"].startswith("refusing to run: 002_seed: failed at ")
