"""``op.execute("A; B")`` and ``ctx.execute("A; B")`` on MySQL: the driver sends both as
one query, and an error of B is an error of the step, never dropped with its result."""

from __future__ import annotations

import sqlalchemy as sa

from ncm_core.history import APPLIED, FAILED

ASYNC_SECOND_FAILS = '''
async def upgrade(ctx):
    await ctx.execute("CREATE TABLE ncm_s_one (id INT); INSERT INTO ncm_s_nowhere VALUES (1)")


async def downgrade(ctx):
    await ctx.execute("DROP TABLE ncm_s_one")
'''

PLAIN_SECOND_FAILS = '''
from alembic import op


def upgrade():
    op.execute("CREATE TABLE ncm_s_two (id INT); INSERT INTO ncm_s_nowhere VALUES (1)")


def downgrade():
    op.execute("DROP TABLE ncm_s_two")
'''

BOTH_GOOD = '''
async def upgrade(ctx):
    await ctx.execute("CREATE TABLE ncm_s_three (note VARCHAR(20)); INSERT INTO ncm_s_three VALUES ('a;b')")


async def downgrade(ctx):
    await ctx.execute("DROP TABLE ncm_s_three")
'''


async def test_an_error_in_the_second_statement_of_ctx_execute_fails_the_step(database_url, write_migration,
                                                                               runner_factory):
    write_migration("001_second_fails", ASYNC_SECOND_FAILS)
    async with runner_factory(database_url) as runner:
        (result,) = await runner.run_migrations()
    assert result["status"] == FAILED and "ncm_s_nowhere" in result["error"]


async def test_an_error_in_the_second_statement_of_op_execute_fails_the_step(database_url, write_migration,
                                                                              runner_factory):
    write_migration("001_second_fails", PLAIN_SECOND_FAILS)
    async with runner_factory(database_url) as runner:
        (result,) = await runner.run_migrations()
    assert result["status"] == FAILED


async def test_two_good_statements_in_one_execute_both_run(database_url, write_migration, runner_factory):
    write_migration("001_both", BOTH_GOOD)
    async with runner_factory(database_url) as runner:
        assert [r["status"] for r in await runner.run_migrations()] == [APPLIED]
        async with runner.db.engine.connect() as conn:
            assert (await conn.execute(sa.text("SELECT note FROM ncm_s_three"))).scalar() == "a;b"
