"""A long data migration run by ``ncm run`` off a terminal (stderr captured) reports its
progress in plain lines: at every 10% and every NCM_PROGRESS_INTERVAL seconds."""

import re

BACKFILL = '''
"""Backfill items."""
import asyncio

type = "data"


async def upgrade(ctx):
    await ctx.execute("CREATE TABLE items (id INTEGER PRIMARY KEY, v INTEGER)")
    await ctx.execute("INSERT INTO items (id, v) VALUES (:id, 0)", [{{"id": i}} for i in range(1, 1001)])
    total = {total}
    with ctx.progress(total, "items") as progress:
        async for rows in ctx.batches("items", ["id", "v"], size={size}):
            await ctx.execute("UPDATE items SET v = 1 WHERE id = :id", [{{"id": row.id}} for row in rows])
            await asyncio.sleep({pause})
            progress.advance(len(rows))
'''


def progress_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("progress ")]


def test_a_known_total_gets_a_line_at_every_tenth_with_rate_and_eta(ncm, project):
    (project / "migrations" / "001_backfill.py").write_text(
        BACKFILL.format(total='(await ctx.execute("SELECT COUNT(*) FROM items")).scalar_one()', size=50, pause=0),
        encoding="utf-8")
    lines = progress_lines(ncm("run", env={"NCM_PROGRESS_INTERVAL": "1000"}).stderr)
    assert [int(re.search(r"\((\d+)%\)", line)[1]) for line in lines] == list(range(10, 101, 10))
    assert all(re.fullmatch(r"progress items: \d+/1000 \(\d+%\), \d+/s, ETA \d+s", line) for line in lines), lines
    assert lines[-1].startswith("progress items: 1000/1000 (100%)") and lines[-1].endswith("ETA 0s")


def test_the_interval_gives_lines_between_tenths(ncm, project):
    (project / "migrations" / "001_backfill.py").write_text(BACKFILL.format(total=None, size=200, pause=0.05),
                                                            encoding="utf-8")
    lines = progress_lines(ncm("run", env={"NCM_PROGRESS_INTERVAL": "0.01"}).stderr)
    assert len(lines) == 5
    assert all(re.fullmatch(r"progress items: \d+ done, \d+/s, \d+s so far", line) for line in lines), lines
    assert lines[-1].startswith("progress items: 1000 done")


def test_without_a_total_no_line_comes_before_the_interval(ncm, project):
    (project / "migrations" / "001_backfill.py").write_text(BACKFILL.format(total=None, size=200, pause=0),
                                                            encoding="utf-8")
    assert progress_lines(ncm("run").stderr) == []


def test_a_bad_interval_is_one_warning_and_the_migration_runs(ncm, project):
    (project / "migrations" / "001_backfill.py").write_text(BACKFILL.format(total=None, size=500, pause=0),
                                                            encoding="utf-8")
    done = ncm("run", env={"NCM_PROGRESS_INTERVAL": "soon"})
    assert "warning: NCM_PROGRESS_INTERVAL must be a positive number of seconds; using 5" in done.stderr
    assert "applied" in ncm("status").stdout
