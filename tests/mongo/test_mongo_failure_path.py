"""Without a transaction (a standalone server, or `transactional = False`) a failure leaves a
visible "failed" record; auto rollback runs the down step and `ncm repair` clears the record."""

import pytest

from ncm_core.history import APPLIED, FAILED

HALF_DONE = '''"""Create a collection, fill it, then fail."""
{marker}

async def upgrade(ctx):
    await ctx.db.create_collection("orders", session=ctx.session)
    await ctx.db.orders.insert_one({{"n": 1}}, session=ctx.session)
    raise RuntimeError("boom half way")


async def downgrade(ctx):
    await ctx.db.drop_collection("orders", session=ctx.session)
'''

FIRST = '''"""Create customers."""
transactional = False


async def upgrade(ctx):
    await ctx.db.create_collection("customers", session=ctx.session)


async def downgrade(ctx):
    await ctx.db.drop_collection("customers", session=ctx.session)
'''


@pytest.fixture(params=["standalone server", "non-transactional migration"])
def setup(request):
    """(database URL, line marking the migration) for each way of running without a transaction."""
    if request.param == "standalone server":
        return request.getfixturevalue("standalone_url"), ""
    return request.getfixturevalue("mongo_url"), "transactional = False"


async def test_failure_is_recorded_and_its_partial_changes_stay(setup, write_migration, runner_factory):
    url, marker = setup
    write_migration("001_half", HALF_DONE.format(marker=marker))
    async with runner_factory(url) as runner:
        assert not runner.db.is_atomic(runner.load().order[0])
        (result,) = await runner.run_migrations()
        assert result["status"] == FAILED and "boom half way" in result["error"]
        assert [(r.version, r.status) for r in await runner.db.read_history()] == [("001_half", FAILED)]
        assert await runner.db.db.orders.count_documents({}) == 1


async def test_auto_rollback_runs_the_down_steps(setup, write_migration, runner_factory):
    url, marker = setup
    write_migration("001_first", FIRST)
    write_migration("002_half", HALF_DONE.format(marker=marker))
    async with runner_factory(url, auto_rollback_on_failure=True) as runner:
        results = await runner.run_migrations()
        assert [(r["version"], r["status"]) for r in results] == [
            ("001_first", APPLIED), ("002_half", FAILED), ("002_half", "reverted"), ("001_first", "reverted")]
        assert set(await runner.db.db.list_collection_names()).isdisjoint({"orders", "customers"})
        assert await runner.db.read_history() == []


async def test_repair_clears_the_failed_record_and_the_fixed_file_applies(setup, write_migration, runner_factory):
    url, marker = setup
    path = write_migration("001_half", HALF_DONE.format(marker=marker))
    async with runner_factory(url) as runner:
        await runner.run_migrations()
        await runner.db.db.drop_collection("orders")
        assert await runner.repair() == [{"version": "001_half", "action": "removed failed record"}]
        path.write_text(path.read_text().replace('    raise RuntimeError("boom half way")\n', ""))
        assert [r["status"] for r in await runner.run_migrations()] == [APPLIED]
        assert await runner.db.db.orders.count_documents({}) == 1


async def test_sys_exit_in_a_migration_fails_it(write_migration, runner_factory, mongo_url):
    write_migration("001_exits", "import sys\n\n\nasync def upgrade(ctx):\n    sys.exit(0)\n")
    async with runner_factory(mongo_url) as runner:
        (result,) = await runner.run_migrations()
        assert result["status"] == "failed" and "SystemExit" in result["error"]
        assert [(r.version, r.status) for r in await runner.db.read_history()] == [("001_exits", "failed")]
