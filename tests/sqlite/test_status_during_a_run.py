"""``ncm status`` on SQLite while a child ``ncm run`` is in the middle of a slow step: SQLite
runs the steps in one transaction, invisible until it commits, so the lock says what is under way."""

import json
import time

from faults import SQL_PLAIN, Child


def test_status_does_not_block_and_shows_the_atomic_step_in_progress(project, ncm):
    url = f"sqlite+aiosqlite:///{project}/app.db"
    migrations = project / "migrations"
    (migrations / "001_slow.py").write_text(SQL_PLAIN.format(transactional=True, first="slow_a", second="slow_b"))
    (migrations / "002_next.py").write_text(SQL_PLAIN.format(transactional=True, first="next_a", second="next_b"))
    child = Child(url, migrations, "run", pause=30)
    try:
        child.wait_for_mark()
        started = time.monotonic()
        state = json.loads(ncm("status", "--json").stdout)
        assert time.monotonic() - started < 10
        assert [m["state"] for m in state["migrations"]] == ["in progress", "pending"]
        assert f"pid {child.process.pid} on " in state["lock_holder"]
    finally:
        child.kill_group()
        child.finish()


def test_status_after_the_run_shows_no_step_in_progress(project, ncm):
    (project / "migrations" / "001_quick.py").write_text(SQL_PLAIN.format(transactional=True, first="q_a",
                                                                          second="q_b"))
    ncm("run", env={"NCM_TEST_MARK": str(project / "mark"), "NCM_TEST_PAUSE": "0"})
    state = json.loads(ncm("status", "--json").stdout)
    assert [m["state"] for m in state["migrations"]] == ["applied"] and state["lock_holder"] is None
