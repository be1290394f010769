"""Resumable batched backfills (``ctx.backfill``) against the real servers: what every backend's
backfill tests share. A backend's module subclasses :class:`BackfillRuns` with a ``url``
fixture, its migration sources and a way to read the counter of each row.

The table ``items`` has 100 rows with keys 3, 6, ... 300 (gaps, so ranges are by key, not by
row number) and a counter ``n``; the backfill adds 1 to ``n`` of every row of each batch of 10,
with no WHERE that skips done rows: a row updated twice shows as 2. Each batch's first key is
appended to the file ``NCM_TEST_LOG``; after batch ``NCM_TEST_STOP_AT`` the migration writes
``NCM_TEST_MARK`` and waits ``NCM_TEST_PAUSE`` seconds, batch still uncommitted: the moment at
which a test kills or signals ``ncm run``.
"""

from __future__ import annotations

import asyncio
import json
import random
import signal
import time
from collections import Counter
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine

from faults import HEADER, Child, ncm, states

__all__ = ["HEADER", "KEYS", "BackfillRuns", "BackfillWorkers", "sql_counters", "sql_rows_done"]

KEYS = [3 * i for i in range(1, 101)]
SQL_ITEMS = '''"""Items with a counter."""


async def upgrade(ctx):
    await ctx.execute("CREATE TABLE items (id INTEGER PRIMARY KEY, n INTEGER NOT NULL)")
    await ctx.execute("INSERT INTO items (id, n) VALUES (:id, 0)", [{{"id": k}} for k in {keys}])
'''.format(keys=KEYS)

SQL_BACKFILL = HEADER + '''
type = "data"


async def upgrade(ctx):
    stop_at, done = int(os.environ.get("NCM_TEST_STOP_AT", "0")), 0
    async for batch in ctx.backfill("items", key="id", size=10):
        with open(os.environ["NCM_TEST_LOG"], "a") as log:
            log.write(f"{batch.lo}\\n")
        await batch.execute("UPDATE items SET n = n + 1 WHERE id BETWEEN :lo AND :hi")
        done += 1
        if done == stop_at:
            mark()
            await asyncio.sleep(pause())


async def downgrade(ctx):
    await ctx.execute("UPDATE items SET n = 0")
'''

SQL_LATER = '''"""A table made after the backfill."""


async def upgrade(ctx):
    await ctx.execute("CREATE TABLE later (id INTEGER PRIMARY KEY)")
'''


SQL_MANY_ITEMS = '''"""20,000 items with a counter."""


async def upgrade(ctx):
    await ctx.execute("CREATE TABLE items (id INTEGER PRIMARY KEY, n INTEGER NOT NULL)")
    await ctx.execute("INSERT INTO items (id, n) VALUES (:id, 0)", [{"id": k} for k in range(20_000)])
'''
SQL_COUNTING = '''"""Count each row's updates: no WHERE skips the done ones, so twice shows as 2."""
type = "data"


async def upgrade(ctx):
    async for batch in ctx.backfill("items", key="id", size=200):
        await batch.execute("UPDATE items SET n = n + 1 WHERE id BETWEEN :lo AND :hi")
'''


def sql_rows(url: str, query: str) -> list[sa.Row]:
    """A query's rows, read with SQLAlchemy (PostgreSQL, MySQL)."""
    async def read() -> list[sa.Row]:
        engine = create_async_engine(url)
        try:
            async with engine.connect() as conn:
                return list((await conn.execute(sa.text(query))).all())
        finally:
            await engine.dispose()

    return asyncio.run(read())


def sql_counters(url: str) -> dict[int, int]:
    """Each row's ``n`` by key."""
    return dict(sql_rows(url, "SELECT id, n FROM items ORDER BY id"))


def sql_rows_done(url: str) -> int:
    """The rows done of the one backfill's checkpoint (0 before it has one)."""
    try:
        return sql_rows(url, "SELECT max(rows_done) FROM ncm_backfills")[0][0] or 0
    except sa.exc.ProgrammingError:
        return 0


class BackfillRuns:
    items_source = SQL_ITEMS
    backfill_source = SQL_BACKFILL
    later_source = SQL_LATER
    many_items_source = SQL_MANY_ITEMS
    counting_source = SQL_COUNTING

    def counters(self, url: str) -> dict[int, int]:
        """Each row's ``n`` by key."""
        raise NotImplementedError

    def rows_done(self, url: str) -> int:
        """The rows done of the checkpoint of the one backfill (0 before it has one)."""
        raise NotImplementedError

    @pytest.fixture
    def log(self, tmp_path, monkeypatch) -> Path:
        path = tmp_path / "batches.log"
        monkeypatch.setenv("NCM_TEST_LOG", str(path))
        return path

    @pytest.fixture
    def project(self, migrations_dir, log) -> Path:
        migrations_dir.mkdir(exist_ok=True)
        (migrations_dir / "001_items.py").write_text(self.items_source)
        (migrations_dir / "002_fill.py").write_text(self.backfill_source)
        return migrations_dir

    def starts(self, log: Path) -> list[int]:
        return [int(line) for line in log.read_text().split()]

    def until_committed(self, url: str, batches: int) -> None:
        """Until the checkpoint shows ``batches`` batches done: where commits overlap the next
        batch, the one before may still be committing when a batch's statements have run."""
        deadline = time.monotonic() + 10
        while self.rows_done(url) < 10 * batches and time.monotonic() < deadline:
            time.sleep(0.005)

    def killed_at(self, url: str, project: Path, monkeypatch, batch: int) -> None:
        """Killed with batch ``batch`` under way, the ones before it committed."""
        monkeypatch.setenv("NCM_TEST_STOP_AT", str(batch))
        child = Child(url, project, "run")
        child.wait_for_mark()
        self.until_committed(url, batch - 1)
        child.kill_group()
        child.finish()
        monkeypatch.delenv("NCM_TEST_STOP_AT")

    def status_of(self, url: str, project: Path, version: str) -> dict:
        done = ncm(url, project, "status", "--json")
        assert done.returncode == 0, done.stderr
        return next(m for m in json.loads(done.stdout)["migrations"] if m["version"] == version)

    def test_a_backfill_updates_every_row_once(self, url, project):
        done = ncm(url, project, "run")
        assert done.returncode == 0, done.stderr
        assert self.counters(url) == {k: 1 for k in KEYS}

    def test_a_backfill_walks_the_key_ranges_in_order(self, url, project, log):
        assert ncm(url, project, "run").returncode == 0
        assert self.starts(log) == KEYS[::10]

    def test_a_run_killed_mid_backfill_keeps_the_batches_committed_before(self, url, project, log, monkeypatch):
        self.killed_at(url, project, monkeypatch, batch=3)
        assert self.counters(url) == {k: 1 if k <= KEYS[19] else 0 for k in KEYS}

    def test_the_next_run_resumes_at_the_checkpoint_and_updates_each_row_once(self, url, project, log, monkeypatch):
        self.killed_at(url, project, monkeypatch, batch=3)
        log.write_text("")
        done = ncm(url, project, "run")
        assert done.returncode == 0, done.stderr
        assert self.starts(log)[0] == KEYS[20]
        assert self.counters(url) == {k: 1 for k in KEYS}

    def test_three_kills_then_a_run_leave_every_row_updated_once(self, url, project, log, monkeypatch):
        for batch in (2, 3, 1):
            self.killed_at(url, project, monkeypatch, batch=batch)
        assert ncm(url, project, "run").returncode == 0
        assert self.counters(url) == {k: 1 for k in KEYS}

    def test_kill_9_at_random_moments_leaves_every_row_updated_once(self, url, migrations_dir):
        """Killed while a batch runs, while the one before commits, or between: ``ncm status``
        shows the backfill in progress at its checkpoint, no row is updated twice, nor left
        out, and each run starts where the last stopped."""
        seed = random.randrange(1 << 30)
        moments = random.Random(seed)
        migrations_dir.mkdir(exist_ok=True)
        (migrations_dir / "001_items.py").write_text(self.many_items_source)
        assert ncm(url, migrations_dir, "run").returncode == 0
        (migrations_dir / "002_count.py").write_text(self.counting_source)
        reached = [0]
        for _ in range(3):
            child = Child(url, migrations_dir, "run")
            deadline = time.monotonic() + 60
            while self.rows_done(url) <= reached[-1] and child.process.poll() is None and time.monotonic() < deadline:
                time.sleep(0.005)
            time.sleep(moments.uniform(0, 0.05))
            child.kill_group()
            child.finish()
            reached.append(self.rows_done(url))
            row = self.status_of(url, migrations_dir, "002_count")
            assert (row["state"], row["backfill"]["rows_done"]) == ("in progress", reached[-1]), f"seed {seed}: {row}"
        done = ncm(url, migrations_dir, "run")
        assert done.returncode == 0, done.stderr
        assert Counter(self.counters(url).values()) == {1: 20_000}, f"seed {seed}, checkpoints {reached}"
        assert reached == sorted(reached) and reached[-1] < 20_000, f"seed {seed}, checkpoints {reached}"

    def test_status_shows_a_killed_backfill_in_progress_with_its_rows_done(self, url, project, monkeypatch):
        self.killed_at(url, project, monkeypatch, batch=3)
        row = self.status_of(url, project, "002_fill")
        assert (row["state"], row["backfill"]["rows_done"], row["backfill"]["rows_total"]) == ("in progress", 20, 100), row

    def test_status_gives_the_rate_and_eta_of_a_killed_backfill(self, url, project, monkeypatch):
        self.killed_at(url, project, monkeypatch, batch=3)
        backfill = self.status_of(url, project, "002_fill")["backfill"]
        assert backfill["rate"] > 0 and backfill["eta_seconds"] >= 0

    def test_status_prints_the_backfill_line(self, url, project, monkeypatch):
        self.killed_at(url, project, monkeypatch, batch=3)
        done = ncm(url, project, "status")
        assert "backfill: 002_fill: 20/100 rows (20%)" in done.stdout, done.stdout

    def test_sigterm_stops_after_the_current_batch_and_the_next_run_resumes(self, url, project, log, monkeypatch):
        monkeypatch.setenv("NCM_TEST_STOP_AT", "3")
        child = Child(url, project, "run", pause=1)
        child.wait_for_mark()
        child.send(signal.SIGTERM)
        code, _, err = child.finish()
        assert code == 128 + signal.SIGTERM, err
        done = self.status_of(url, project, "002_fill")["backfill"]["rows_done"]
        assert 30 <= done < 100 and self.counters(url) == {k: 1 if k <= KEYS[done - 1] else 0 for k in KEYS}
        monkeypatch.delenv("NCM_TEST_STOP_AT")
        assert ncm(url, project, "run").returncode == 0
        assert self.counters(url) == {k: 1 for k in KEYS}

    def test_defer_backfills_applies_the_rest_and_leaves_the_backfill_deferred(self, url, project):
        (project / "003_later.py").write_text(self.later_source)
        done = ncm(url, project, "run", "--defer-backfills")
        assert done.returncode == 0, done.stderr
        assert states(url, project) == {"001_items": "applied", "002_fill": "deferred", "003_later": "applied"}
        assert set(self.counters(url).values()) == {0}

    def test_ncm_backfill_runs_what_defer_backfills_left(self, url, project):
        (project / "003_later.py").write_text(self.later_source)
        assert ncm(url, project, "run", "--defer-backfills").returncode == 0
        done = ncm(url, project, "backfill")
        assert done.returncode == 0 and "1 backfill migration(s) applied" in done.stdout, done.stderr
        assert self.counters(url) == {k: 1 for k in KEYS}

    def test_batch_size_overrides_the_size_the_migration_gives(self, url, project, log):
        assert ncm(url, project, "run", "--batch-size", "25", "--batch-target", "0").returncode == 0
        assert self.starts(log) == KEYS[::25]

    def test_a_last_batch_shorter_than_the_rest_takes_the_rows_left(self, url, project, log):
        assert ncm(url, project, "run", "--batch-size", "30", "--batch-target", "0").returncode == 0
        assert self.starts(log) == KEYS[::30]
        assert self.counters(url) == {k: 1 for k in KEYS}

    def test_a_batch_after_a_slow_one_is_shorter_and_each_row_is_still_updated_once(
            self, url, project, log, monkeypatch):
        monkeypatch.setenv("NCM_TEST_STOP_AT", "2")
        returncode, _, err = Child(url, project, "run", "--batch-target", "100", pause=0.3).finish()
        assert returncode == 0, err
        starts = self.starts(log)
        assert starts[:3] == KEYS[:30:10] and KEYS[20] < starts[3] < KEYS[30], starts
        assert self.counters(url) == {k: 1 for k in KEYS}

    def test_a_batch_size_of_zero_is_refused_in_one_line(self, url, project):
        done = ncm(url, project, "run", "--batch-size", "0")
        assert done.returncode != 0 and done.stderr.strip().splitlines() == [
            "error: --batch-size must be at least 1, not 0"], done.stderr
        assert states(url, project) == {"001_items": "pending", "002_fill": "pending"}

    def test_a_backfill_rolled_back_runs_again_from_the_start(self, url, project):
        assert ncm(url, project, "run").returncode == 0
        rolled = ncm(url, project, "rollback", "--steps", "1", "--yes")
        assert rolled.returncode == 0, rolled.stderr
        assert ncm(url, project, "run").returncode == 0
        assert self.counters(url) == {k: 1 for k in KEYS}


class BackfillWorkers(BackfillRuns):
    """``ncm backfill`` holds the backfill's claim, not the migration lock: deploys go on beside
    it, a second worker never runs the same backfill, a killed worker's claim dies with it.

    ``deferred`` leaves 002_fill to the worker (003_later applied); ``worker_between_batches``
    starts a worker that waits a second between batches (each committed: even SQLite's write
    lock is free then), once its second batch is under way."""

    def names_worker(self, worker: str | None, pid: int) -> bool:
        """Whether status's ``worker`` is the process ``pid`` (as the database names it)."""
        return worker is not None and f"pid {pid} on " in worker

    @pytest.fixture
    def deferred(self, url, project) -> Path:
        (project / "003_later.py").write_text(self.later_source)
        done = ncm(url, project, "run", "--defer-backfills")
        assert done.returncode == 0, done.stderr
        return project

    def worker_between_batches(self, url: str, project: Path, monkeypatch) -> Child:
        monkeypatch.setenv("NCM_TEST_STOP_AT", "2")
        worker = Child(url, project, "backfill", "--batch-pause", "1", pause=0)
        worker.wait_for_mark()
        return worker

    def test_a_deploy_applies_a_new_migration_while_a_worker_backfills(self, url, deferred, monkeypatch):
        worker = self.worker_between_batches(url, deferred, monkeypatch)
        try:
            (deferred / "004_new.py").write_text(self.later_source.replace("later", "newer"))
            deploy = ncm(url, deferred, "--lock-timeout", "5", "run", "--defer-backfills")
            assert deploy.returncode == 0, deploy.stderr
            assert worker.process.poll() is None, "the worker ended before the deploy did"
        finally:
            code, _, err = worker.finish()
        assert code == 0, err
        assert states(url, deferred)["004_new"] == "applied"
        assert self.counters(url) == {k: 1 for k in KEYS}

    def test_status_names_the_worker_and_its_rows_done_while_it_backfills(self, url, deferred, monkeypatch):
        worker = self.worker_between_batches(url, deferred, monkeypatch)
        try:
            row = self.status_of(url, deferred, "002_fill")
        finally:
            worker.send(signal.SIGTERM)
            worker.finish()
        assert row["state"] == "in progress" and row["backfill"]["rows_done"] >= 10, row
        assert self.names_worker(row["backfill"]["worker"], worker.process.pid), row["backfill"]

    def test_a_run_that_would_run_the_worker_s_backfill_is_refused_naming_it(self, url, deferred, monkeypatch):
        worker = self.worker_between_batches(url, deferred, monkeypatch)
        try:
            done = ncm(url, deferred, "run")
        finally:
            worker.send(signal.SIGTERM)
            worker.finish()
        assert done.returncode == 5 and "002_fill is being backfilled by" in done.stderr, done.stderr

    def test_a_second_worker_waits_for_the_claim_and_finds_the_backfill_done(self, url, deferred, monkeypatch):
        monkeypatch.setenv("NCM_TEST_STOP_AT", "2")
        first = Child(url, deferred, "backfill", pause=2)
        first.wait_for_mark()
        second = ncm(url, deferred, "backfill")
        code, _, err = first.finish()
        assert (code, second.returncode) == (0, 0), err + second.stderr
        assert "nothing to backfill" in second.stdout, second.stdout
        assert self.counters(url) == {k: 1 for k in KEYS}

    def test_a_second_worker_leaves_a_claimed_backfill_to_the_first(self, url, deferred, monkeypatch):
        monkeypatch.setenv("NCM_TEST_STOP_AT", "2")
        first = Child(url, deferred, "backfill", pause=6)
        first.wait_for_mark()
        second = ncm(url, deferred, "--lock-timeout", "0.5", "backfill")
        code, _, err = first.finish()
        assert second.returncode == 0 and "left to another process" in second.stdout, second.stdout + second.stderr
        assert code == 0 and self.counters(url) == {k: 1 for k in KEYS}, err

    def test_a_killed_worker_s_backfill_is_resumed_by_the_next_worker_at_its_checkpoint(self, url, deferred, log,
                                                                                      monkeypatch):
        monkeypatch.setenv("NCM_TEST_STOP_AT", "3")
        worker = Child(url, deferred, "backfill")
        worker.wait_for_mark()
        self.until_committed(url, 2)
        worker.kill_group()
        worker.finish()
        monkeypatch.delenv("NCM_TEST_STOP_AT")
        log.write_text("")
        done = ncm(url, deferred, "backfill")
        assert done.returncode == 0 and "1 backfill migration(s) applied" in done.stdout, done.stderr
        assert self.starts(log)[0] == KEYS[20]
        assert self.counters(url) == {k: 1 for k in KEYS}
