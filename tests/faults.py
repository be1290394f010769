"""Runs that are killed, signalled or cut off part way, against the real servers: what every
backend's fault tests share. A backend's test module subclasses :class:`InterruptedRuns`
with its database URL, the source of its migrations and a way to list what they created.

Each migration below creates one thing, writes the file ``NCM_TEST_MARK`` names (so the test
knows the first thing exists), waits ``NCM_TEST_PAUSE`` seconds, then creates a second
thing: the moment at which a test kills or signals ``ncm run``.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

HEADER = '''"""Two things, a pause between them."""
import asyncio
import os
import time
from pathlib import Path


def mark():
    Path(os.environ["NCM_TEST_MARK"]).write_text("first")


def pause():
    return float(os.environ.get("NCM_TEST_PAUSE", "0"))
'''

SQL_PLAIN = HEADER + '''
import sqlalchemy as sa
from alembic import op

transactional = {transactional}


def upgrade():
    op.create_table("{first}", sa.Column("id", sa.Integer, primary_key=True))
    mark()
    time.sleep(pause())
    op.create_table("{second}", sa.Column("id", sa.Integer, primary_key=True))


def downgrade():
    op.drop_table("{second}")
    op.drop_table("{first}")
'''

SQL_ASYNC = HEADER + '''
transactional = {transactional}


async def upgrade(ctx):
    await ctx.execute("CREATE TABLE {first} (id INTEGER PRIMARY KEY)")
    mark()
    await asyncio.sleep(pause())
    await ctx.execute("CREATE TABLE {second} (id INTEGER PRIMARY KEY)")


async def downgrade(ctx):
    await ctx.execute("DROP TABLE IF EXISTS {second}")
    await ctx.execute("DROP TABLE IF EXISTS {first}")
'''

MONGO_ASYNC = HEADER + '''
transactional = {transactional}


async def upgrade(ctx):
    await ctx.db.create_collection("{first}", session=ctx.session)
    mark()
    await asyncio.sleep(pause())
    await ctx.db.create_collection("{second}", session=ctx.session)


async def downgrade(ctx):
    await ctx.db.drop_collection("{second}", session=ctx.session)
    await ctx.db.drop_collection("{first}", session=ctx.session)
'''


class Child:
    """``ncm`` in a process group of its own, to be signalled or killed part way."""

    def __init__(self, database_url: str, migrations_dir: Path, *args: str, pause: float = 60) -> None:
        self.mark = migrations_dir.parent / f"mark-{time.monotonic_ns()}"
        env = {**os.environ, "MIGRATION_DATABASE_URL": database_url, "MIGRATION_MIGRATION_DIRECTORY": str(migrations_dir),
               "NCM_TEST_MARK": str(self.mark), "NCM_TEST_PAUSE": str(pause), "COLUMNS": "200"}
        self.process = subprocess.Popen([sys.executable, "-m", "ncm_core", *args], env=env, cwd=migrations_dir.parent,
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                        start_new_session=True)

    def wait_for_mark(self, timeout: float = 60) -> None:
        """Until the migration has created its first thing and is pausing."""
        deadline = time.monotonic() + timeout
        while not self.mark.exists():
            if self.process.poll() is not None:
                raise AssertionError(f"ncm ended before the pause: {self.process.communicate()}")
            if time.monotonic() > deadline:
                raise AssertionError("the migration never reached its pause")
            time.sleep(0.02)

    def send(self, signum: int) -> None:
        os.kill(self.process.pid, signum)

    def kill_group(self) -> None:
        os.killpg(self.process.pid, signal.SIGKILL)

    def finish(self, timeout: float = 60) -> tuple[int, str, str]:
        out, err = self.process.communicate(timeout=timeout)
        return self.process.returncode, out, err


def ncm(database_url: str, migrations_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "MIGRATION_DATABASE_URL": database_url, "MIGRATION_MIGRATION_DIRECTORY": str(migrations_dir),
           "NCM_TEST_MARK": str(migrations_dir.parent / "mark-after"), "NCM_TEST_PAUSE": "0", "COLUMNS": "200"}
    return subprocess.run([sys.executable, "-m", "ncm_core", *args], env=env, cwd=migrations_dir.parent,
                          capture_output=True, text=True, timeout=120)


def states(database_url: str, migrations_dir: Path) -> dict[str, str]:
    done = ncm(database_url, migrations_dir, "status", "--json")
    assert done.returncode == 0, done.stderr
    return {m["version"]: m["state"] for m in json.loads(done.stdout)["migrations"]}


class InterruptedRuns:
    """What a run killed, signalled or cut off part way must leave behind, on every backend."""

    async_source: str
    atomic: bool
    """Whether the backend's ``async_source`` with ``transactional = True`` is atomic."""

    def names(self, url: str) -> set[str]:
        """The tables (collections) the database holds; a subclass also provides a ``url`` fixture."""
        raise NotImplementedError

    def drop(self, url: str, name: str) -> None:
        """Drop a table (collection) by hand, as a user undoing a step would."""
        raise NotImplementedError

    def names_holder(self, holder: str | None, pid: int) -> bool:
        """Whether ``status``'s lock holder is the runner ``pid``."""
        return holder is not None and f"pid {pid} on " in holder

    def write(self, migrations_dir: Path, version: str, source: str, transactional: bool, n: int = 1) -> None:
        text = source.format(transactional=transactional, first=f"ncm_f{n}_first", second=f"ncm_f{n}_second")
        (migrations_dir / f"{version}.py").write_text(text)

    def kill_during_first_step(self, url: str, migrations_dir: Path) -> None:
        self.write(migrations_dir, "001_two", self.async_source, transactional=False)
        child = Child(url, migrations_dir, "run")
        child.wait_for_mark()
        child.kill_group()
        child.finish()

    def test_mark_pending_lets_a_step_undone_by_hand_run_again(self, url, migrations_dir):
        self.kill_during_first_step(url, migrations_dir)
        self.drop(url, "ncm_f1_first")
        marked = ncm(url, migrations_dir, "repair", "--mark-pending", "001_two")
        assert marked.returncode == 0 and "001_two: marked pending (was running)" in marked.stdout, marked.stderr
        assert states(url, migrations_dir) == {"001_two": "pending"}
        assert ncm(url, migrations_dir, "run").returncode == 0
        assert states(url, migrations_dir) == {"001_two": "applied"}

    def test_rollback_runs_the_down_step_of_an_interrupted_step_when_asked(self, url, migrations_dir):
        self.kill_during_first_step(url, migrations_dir)
        done = ncm(url, migrations_dir, "rollback", "--version", "001_two")
        assert done.returncode == 0, done.stderr
        assert "ncm_f1_first" not in self.names(url)
        assert states(url, migrations_dir) == {"001_two": "pending"}

    def test_status_during_a_run_names_the_holder_and_the_step_in_progress(self, url, migrations_dir):
        self.write(migrations_dir, "001_two", self.async_source, transactional=False)
        child = Child(url, migrations_dir, "run", pause=30)
        try:
            child.wait_for_mark()
            status = ncm(url, migrations_dir, "status", "--json")
            state = json.loads(status.stdout)
            assert state["migrations"][0]["state"] == "in progress"
            assert self.names_holder(state["lock_holder"], child.process.pid), state["lock_holder"]
        finally:
            child.kill_group()
            child.finish()

    def test_status_names_the_lock_holder_during_an_atomic_run_and_returns_promptly(self, url, migrations_dir):
        self.write(migrations_dir, "001_two", self.async_source, transactional=True)
        child = Child(url, migrations_dir, "run", pause=30)
        try:
            child.wait_for_mark()
            started = time.monotonic()
            status = ncm(url, migrations_dir, "status")
            took = time.monotonic() - started
            (line,) = [x for x in status.stdout.splitlines() if x.startswith("lock: held by ")]
            assert self.names_holder(line.removeprefix("lock: held by "), child.process.pid), status.stdout
            assert took < 10, f"status took {took:.1f} s while the run held the lock"
        finally:
            child.kill_group()
            child.finish()

    def test_sigterm_lets_the_current_migration_finish_then_stops_with_143(self, url, migrations_dir):
        for n, version in enumerate(("001_a", "002_b", "003_c"), 1):
            self.write(migrations_dir, version, self.async_source, transactional=True, n=n)
        child = Child(url, migrations_dir, "run", pause=1.5)
        child.wait_for_mark()
        child.send(signal.SIGTERM)
        code, _, err = child.finish()
        assert code == 143, err
        assert err.strip().splitlines()[-1] == "error: stopped by SIGTERM: applied: 001_a; not applied: 002_b, 003_c"
        assert states(url, migrations_dir) == {"001_a": "applied", "002_b": "pending", "003_c": "pending"}
        assert {"ncm_f1_first", "ncm_f1_second"} <= self.names(url) and "ncm_f2_first" not in self.names(url)

    def test_a_second_ctrl_c_stops_at_once_keeping_what_finished_and_says_so(self, url, migrations_dir):
        self.write(migrations_dir, "001_a", self.async_source, transactional=True, n=1)
        self.write(migrations_dir, "002_b", self.async_source, transactional=True, n=2)
        child = Child(url, migrations_dir, "run", pause=1)
        child.wait_for_mark()
        child.mark.unlink()
        child.wait_for_mark()  # 002_b has made its first thing and is pausing
        child.send(signal.SIGINT)
        time.sleep(0.3)
        child.send(signal.SIGINT)
        code, out, err = child.finish()
        assert code == 130, err
        if self.atomic:
            assert err.strip().splitlines()[-1] == "error: stopped at once by SIGINT: applied: 001_a; not applied: 002_b"
            assert states(url, migrations_dir) == {"001_a": "applied", "002_b": "pending"}
            assert "ncm_f2_first" not in self.names(url)
        else:
            assert err.strip().splitlines()[-1].endswith("applied: 001_a; not applied: none; "
                                                         "interrupted part way: 002_b (see `ncm status`)")
            assert states(url, migrations_dir) == {"001_a": "applied", "002_b": "interrupted"}
        assert not re.search(r"^applied\s+002_b", out + err, re.MULTILINE), "printed applied for what did not stick"

def sql_names(url: str) -> set[str]:
    """The tables of a SQL database, read through the real driver."""
    import sqlalchemy as sa
    from sqlalchemy.ext.asyncio import create_async_engine

    async def read() -> set[str]:
        engine = create_async_engine(url)
        try:
            async with engine.connect() as conn:
                return set(await conn.run_sync(lambda sync: sa.inspect(sync).get_table_names()))
        finally:
            await engine.dispose()

    return asyncio.run(read())


def sql_execute(url: str, statement: str) -> None:
    import sqlalchemy as sa
    from sqlalchemy.ext.asyncio import create_async_engine

    async def execute() -> None:
        engine = create_async_engine(url)
        try:
            async with engine.begin() as conn:
                await conn.execute(sa.text(statement))
        finally:
            await engine.dispose()

    asyncio.run(execute())


class InterruptedSQLRuns(InterruptedRuns):
    plain_source = SQL_PLAIN
    async_source = SQL_ASYNC
    atomic = True

    def names(self, url: str) -> set[str]:
        return sql_names(url)

    def drop(self, url: str, name: str) -> None:
        sql_execute(url, f"DROP TABLE {name}")

    def test_a_killed_step_shows_as_interrupted_and_the_next_run_resumes_it(self, url, migrations_dir):
        self.write(migrations_dir, "001_two", self.plain_source, transactional=False)
        child = Child(url, migrations_dir, "run")
        child.wait_for_mark()
        child.kill_group()
        child.finish()
        status = ncm(url, migrations_dir, "status")
        assert "interrupted" in status.stdout and "--mark-applied 001_two" in status.stdout, status.stdout
        done = ncm(url, migrations_dir, "run")
        assert done.returncode == 0, done.stderr
        assert "interrupted after 1 statement(s); resuming" in done.stderr
        assert states(url, migrations_dir) == {"001_two": "applied"}
        assert {"ncm_f1_first", "ncm_f1_second"} <= self.names(url)

    def test_a_killed_step_that_cannot_resume_is_refused_until_marked_applied(self, url, migrations_dir):
        self.kill_during_first_step(url, migrations_dir)
        assert states(url, migrations_dir) == {"001_two": "interrupted"}
        validated = ncm(url, migrations_dir, "validate")
        assert "001_two: interrupted (pid " in validated.stdout + validated.stderr
        refused = ncm(url, migrations_dir, "run")
        assert refused.returncode == 3
        assert "001_two was interrupted while applying it (pid " in refused.stderr
        assert "ncm repair --mark-applied 001_two" in refused.stderr and len(refused.stderr.splitlines()) == 1
        marked = ncm(url, migrations_dir, "repair", "--mark-applied", "001_two")
        assert marked.returncode == 0 and "001_two: marked applied (was running)" in marked.stdout, marked.stderr
        assert states(url, migrations_dir) == {"001_two": "applied"}


class LostConnections:
    """A server that ends the run's connection (an administrator's kill, a session timeout,
    a failover): the lock goes with it, so the run must stop, say so, and leave nothing a
    second runner would trip over."""

    def cut(self, url: str) -> None:
        """End every connection of ncm's child process to the test database."""
        raise NotImplementedError

    def test_a_run_whose_connection_is_cut_stops_with_exit_4_saying_what_stuck(self, url, migrations_dir):
        for n, version in enumerate(("001_a", "002_b"), 1):
            self.write(migrations_dir, version, SQL_ASYNC, transactional=True, n=n)
        child = Child(url, migrations_dir, "run", pause=2)
        child.wait_for_mark()
        self.cut(url)  # during the pause: the step's next statement meets the closed connection
        code, _, err = child.finish()
        assert code == 4, err
        (line,) = err.strip().splitlines()[-1:]
        assert line.startswith("error: lost the connection to the database during 001_a (applying it): "), line
        assert "Traceback" not in err
        done = ncm(url, migrations_dir, "run")
        if self.atomic:
            assert line.endswith("; applied: none; not applied: 001_a, 002_b"), line
            assert done.returncode == 0, done.stderr
            assert states(url, migrations_dir) == {"001_a": "applied", "002_b": "applied"}
        else:
            assert line.endswith("; applied: none; not applied: 002_b; interrupted part way: 001_a (see `ncm status`)")
            assert done.returncode == 3 and "001_a was interrupted" in done.stderr
