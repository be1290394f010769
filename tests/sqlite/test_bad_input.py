"""Bad input through the real `ncm` command: one line naming the file or setting, exit 2,
and nothing changed."""

import logging
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlite_schema import table_names

from ncm_core import hookimpl

NCM = str(Path(sys.executable).with_name("ncm"))

MIGRATION = '"""A."""\ndef upgrade():\n    pass\n'


def test_a_missing_migration_directory_is_exit_2_naming_it(project, ncm):
    (project / "migrations").rmdir()
    done = ncm("run", check=2)
    assert "migration directory migrations does not exist" in done.stderr
    assert not (project / "app.db").exists()


def test_a_migration_directory_that_is_a_file_is_exit_2(project, ncm):
    (project / "migrations").rmdir()
    (project / "migrations").write_text("")
    assert "migrations is not a directory" in ncm("status", check=2).stderr


def test_create_makes_a_missing_migration_directory(project, ncm):
    (project / "migrations").rmdir()
    ncm("create", "first one")
    assert len(list((project / "migrations").glob("*_first_one.py"))) == 1


def test_create_where_the_directory_cannot_be_made_is_exit_2_naming_it(project, ncm):
    (project / "migrations").rmdir()
    (project / "migrations").write_text("")
    done = ncm("--migration-directory", "migrations/db", "create", "first one", check=2)
    assert done.stderr == ("error: cannot create migrations/db: Not a directory "
                           "(`ncm create` writes to migration_directory)\n")


def test_an_empty_target_version_is_exit_2(project, ncm):
    (project / "migrations" / "001_a.py").write_text(MIGRATION)
    assert "the version is empty" in ncm("run", "--target-version", "", check=2).stderr
    assert "pending" in ncm("status").stdout


def test_depends_on_that_is_not_a_list_is_exit_2_naming_the_file(project, ncm):
    (project / "migrations" / "001_a.py").write_text(MIGRATION + "depends_on = 5\n")
    done = ncm("run", check=2)
    assert "001_a.py: depends_on must be a version or a list of versions (strings), not 5" in done.stderr
    assert "internal error" not in done.stderr


def test_a_broken_symlink_is_exit_2_naming_it(project, ncm):
    (project / "migrations" / "001_a.py").symlink_to(project / "nowhere.py")
    assert "001_a.py: is a broken symbolic link" in ncm("run", check=2).stderr


def test_files_ncm_does_not_read_are_warned_about_once(project, ncm):
    (project / "migrations" / "001_a.py").write_text(MIGRATION)
    (project / "migrations" / "002_b.txt").write_text("CREATE TABLE b (id int);")
    done = ncm("run")
    assert done.stderr.count("warning: migrations/002_b.txt: ignored: ncm reads migrations from *.py and *.sql "
                             "files") == 1
    assert "1 migration(s) applied" in done.stdout


def test_a_directory_named_like_a_migration_is_exit_2_naming_it(project, ncm):
    (project / "migrations" / "001_a.py").write_text(MIGRATION)
    (project / "migrations" / "002_b.py").mkdir()
    done = ncm("run", check=2)
    assert done.stderr == "error: migrations/002_b.py: is a directory, not a migration file\n"
    assert not (project / "app.db").exists()


def test_pythons_own_files_and_hidden_files_are_not_warned_about(project, ncm):
    migrations = project / "migrations"
    (migrations / "001_a.py").write_text(MIGRATION)
    (migrations / "__init__.py").write_text("")
    (migrations / "__pycache__").mkdir()
    (migrations / "001_a.cpython-311.pyc").write_bytes(b"")
    (migrations / ".keep").write_text("")
    assert "warning" not in ncm("run").stderr


def test_a_failure_is_printed_once_naming_the_line(project, ncm):
    (project / "migrations" / "001_a.py").write_text('"""A."""\ndef upgrade():\n    raise RuntimeError("boom")\n')
    done = ncm("run", check=1)
    assert done.stderr.count("RuntimeError: boom") == 1 and "001_a.py:3)" in done.stderr


class RaisingAfterHooks:
    @hookimpl
    def ncm_after_migration(self, migration):
        raise RuntimeError("metrics are down")

    @hookimpl
    def ncm_after_run(self, results):
        raise RuntimeError("chat is down")


async def test_an_after_hook_that_raises_is_a_warning_and_the_run_stands(
        tmp_path, write_migration, runner_factory, register_plugin):
    register_plugin(RaisingAfterHooks(), name="raising")
    write_migration("001_a", MIGRATION)
    seen, log = Captured(), logging.getLogger("ncm")
    level, log.level = log.level, logging.INFO
    disabled, log.disabled = log.disabled, False  # another test may have configured logging
    log.addHandler(seen)
    try:
        async with runner_factory(f"sqlite+aiosqlite:///{tmp_path}/t.db") as runner:
            assert [r["status"] for r in await runner.run_migrations()] == ["applied"]
            assert [r.status for r in await runner.db.read_history()] == ["applied"]
    finally:
        log.removeHandler(seen)
        log.level, log.disabled = level, disabled
    assert any("plugin raising: ncm_after_migration raised RuntimeError: metrics are down" in w
               for w in seen.lines), seen.lines
    assert any("ncm_after_run raised RuntimeError: chat is down" in w for w in seen.lines)


class Captured(logging.Handler):
    def __init__(self):
        super().__init__(logging.WARNING)
        self.lines = []

    def emit(self, record):
        self.lines.append(record.getMessage())


def test_a_plugin_that_fails_to_load_is_a_warning_on_every_command(project, ncm, tmp_path):
    (project / "migrations" / "001_a.py").write_text(MIGRATION)
    (tmp_path / "site").mkdir()
    (tmp_path / "site" / "ncm_broken_plugin.py").write_text("raise ImportError('no module named boto3')\n")
    dist = tmp_path / "site" / "ncm_broken_plugin-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: ncm-broken-plugin\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[ncm]\nbroken = ncm_broken_plugin\n")
    env = {"PYTHONPATH": str(tmp_path / "site")}
    for command in ("run", "status", "validate"):
        assert "warning: plugin broken (ncm-broken-plugin 1.0) failed to load" in ncm(command, env=env).stderr
    done = ncm("status", env={**env, "NCM_STRICT_PLUGINS": "1"}, check=7)
    assert done.stderr.startswith("error: plugin broken (ncm-broken-plugin 1.0) failed to load: ImportError")


def test_an_invalid_ncm_toml_is_exit_2_naming_the_file_line_and_column(project, ncm):
    (project / "ncm.toml").write_text('lock_timeout = 5\n[sql\n')
    done = ncm("status", check=2)
    assert done.stderr == ("error: config file ncm.toml: invalid TOML: Expected ']' at the end of a table "
                           "declaration (at line 2, column 5)\n")
    assert not (project / "app.db").exists()


def test_a_toml_error_at_the_end_of_the_file_names_its_line_and_column(project, ncm):
    (project / "ncm.toml").write_text('lock_timeout = 5\nbackup_retention = ')
    assert "ncm.toml: invalid TOML: Invalid value (at line 2, column 20)" in ncm("status", check=2).stderr


def test_an_invalid_pyproject_toml_in_the_working_directory_is_exit_2_naming_it(project, ncm):
    (project / "pyproject.toml").write_text('[project\nname = "app"\n')
    done = ncm("status", check=2)
    assert f"config file {project / 'pyproject.toml'}: invalid TOML: " in done.stderr
    assert "(at line 1, column 9)" in done.stderr and len(done.stderr.splitlines()) == 1


def test_an_ncm_toml_that_starts_with_a_bom_is_read(project, ncm):
    (project / "ncm.toml").write_bytes(b'\xef\xbb\xbfmigration_directory = "db"\n')
    (project / "db").mkdir()
    (project / "db" / "001_a.py").write_text(MIGRATION)
    assert "001_a" in ncm("status").stdout


def test_an_ncm_toml_that_is_a_directory_is_exit_2_naming_it(project, ncm):
    (project / "ncm.toml").mkdir()
    assert ncm("status", check=2).stderr == "error: config file ncm.toml is not a file\n"


def test_a_misspelled_variable_is_one_warning_naming_the_closest_setting(project, ncm):
    done = ncm("status", env={"MIGRATION_DATABSE_URL": "postgresql://app:s3cret@db/app"})
    assert done.stderr == ("warning: MIGRATION_DATABSE_URL is not an ncm setting and is ignored; "
                           "did you mean MIGRATION_DATABASE_URL?\n")


def test_a_misspelled_section_variable_names_the_section_setting(project, ncm):
    done = ncm("status", env={"MIGRATION_SQL_TARGET_METADAT": "app.models:metadata"})
    assert "MIGRATION_SQL_TARGET_METADAT is not an ncm setting and is ignored; " \
           "did you mean MIGRATION_SQL_TARGET_METADATA?" in done.stderr


def test_section_and_image_variables_are_not_warned_about(project, ncm):
    env = {"MIGRATION_MYSQL_CHARSET": "utf8mb4", "MIGRATION_WAIT_TIMEOUT": "30"}
    assert "warning" not in ncm("status", env=env).stderr


def test_a_broken_migration_file_does_not_stop_commands_that_do_not_read_migrations(project, ncm):
    (project / "migrations" / "001_a.py").write_text(MIGRATION)
    ncm("run")
    (project / "migrations" / "002_b.py").write_text("def upgrade(:\n")
    assert "002_b.py:1: syntax error" in ncm("status", check=2).stderr
    ncm("backup", "before.db")
    ncm("restore", "before.db", "--yes")
    ncm("check")
    assert "001_a" in ncm("history").stdout


WAITING = '''"""Says "started", then holds the run (and its locks) until the test creates "release"."""
import time
from pathlib import Path


def upgrade():
    Path("started").touch()
    deadline = time.monotonic() + 60
    while not Path("release").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
'''


def test_a_lock_wait_past_lock_timeout_is_exit_5_naming_the_holders_pid(project, ncm):
    (project / "migrations" / "001_wait.py").write_text(WAITING)
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("MIGRATION_")},
           "MIGRATION_DATABASE_URL": f"sqlite+aiosqlite:///{project}/app.db"}
    holder = subprocess.Popen([NCM, "run"], cwd=project, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        _wait_for(project / "started")
        done = ncm("--lock-timeout", "0.5", "run", check=5)
        assert f"the migration lock is held by pid {holder.pid} on " in done.stderr
        assert len(done.stderr.splitlines()) == 1
    finally:
        (project / "release").touch()
        holder.communicate(timeout=60)
    assert holder.returncode == 0


def _wait_for(path, seconds=30.0):
    deadline = time.monotonic() + seconds
    while not path.exists():
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.05)


def test_a_read_only_database_is_exit_4_naming_the_setting(project, ncm):
    sqlite3.connect(project / "app.db").close()
    (project / "migrations" / "001_a.py").write_text(CREATE_TABLE)
    done = ncm("run", env={"MIGRATION_DATABASE_URL": f"sqlite+aiosqlite:///file:{project}/app.db?mode=ro&uri=true"},
               check=4)
    assert done.stderr == (f"error: cannot create ncm's history tables in {project}/app.db: OperationalError: "
                           "attempt to write a readonly database (the database is read-only: the URL opens it with "
                           "mode=ro, or the file, its directory or its filesystem cannot be written)\n")
    assert table_names(f"sqlite:///{project}/app.db") == set()


def test_a_read_only_filesystem_is_exit_4_naming_the_lock_file(project):
    """The project directory bind-mounted read-only in a mount namespace of its own."""
    if subprocess.run(["unshare", "--mount", "true"], capture_output=True).returncode != 0:
        pytest.skip("needs unshare --mount (root, or user namespaces)")
    sqlite3.connect(project / "app.db").close()
    (project / "migrations" / "001_a.py").write_text(CREATE_TABLE)
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("MIGRATION_")},
           "MIGRATION_DATABASE_URL": f"sqlite+aiosqlite:///{project}/app.db"}
    script = f'mount --bind "$1" "$1" && mount -o remount,ro,bind "$1" && exec {NCM} run'
    done = subprocess.run(["unshare", "--mount", "sh", "-c", script, "sh", str(project)], cwd=project, env=env,
                          capture_output=True, text=True, timeout=120)
    assert (done.returncode, done.stderr) == (4, (
        f"error: cannot take the migration lock: cannot open {project}/app.db.ncm-lock: Read-only file system "
        "(ncm writes its lock file beside the database)\n"))
    assert table_names(f"sqlite:///{project}/app.db") == set()


CREATE_TABLE = '"""A."""\nfrom alembic import op\n\n\ndef upgrade():\n    op.execute("CREATE TABLE a (id int)")\n'


def test_status_during_a_run_answers_without_waiting_for_it(project, ncm):
    (project / "migrations" / "001_wait.py").write_text(WAITING)
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("MIGRATION_")},
           "MIGRATION_DATABASE_URL": f"sqlite+aiosqlite:///{project}/app.db"}
    holder = subprocess.Popen([NCM, "run"], cwd=project, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        _wait_for(project / "started")
        assert "001_wait" in ncm("--lock-timeout", "0.5", "status").stdout
    finally:
        (project / "release").touch()
        holder.communicate(timeout=60)
    assert "pending: 0" in ncm("status").stdout


def test_an_unknown_transaction_mode_in_a_migration_is_exit_2_naming_the_file(project, ncm):
    (project / "migrations" / "001_a.py").write_text('"""A."""\ntransaction_mode = "sometimes"\n\n\ndef upgrade():\n    pass\n')
    done = ncm("run", check=2)
    assert done.stderr.startswith("error: migrations/001_a.py: transaction_mode must be one of 'migration', 'run'")
    assert len(done.stderr.splitlines()) == 1
    assert not (project / "app.db").exists()


def test_an_unknown_transaction_mode_setting_is_exit_2_naming_it(project, ncm):
    done = ncm("run", check=2, env={"MIGRATION_TRANSACTION_MODE": "sometimes"})
    assert "transaction_mode" in done.stderr and len(done.stderr.splitlines()) == 1
    assert not (project / "app.db").exists()
