"""DatabaseUtils' checks on SQLite, with a runner initialised or not."""

from database_utils_checks import both_checks, fresh_runner


async def test_checks_on_a_fresh_runner_connect_and_leave_it_uninitialised(url, migrations_dir):
    runner = fresh_runner(url, migrations_dir)
    is_connected, results = await both_checks(runner)
    assert is_connected is True
    assert results["connection"] is True and results["pending"] == 1 and "error" not in results
    assert runner.backend is None


async def test_checks_on_an_initialised_runner_leave_it_connected(url, migrations_dir):
    runner = fresh_runner(url, migrations_dir)
    await runner.initialize()
    try:
        is_connected, results = await both_checks(runner)
        assert is_connected is True and results["connection"] is True and results["migrations"] == 1
        assert [r["status"] for r in await runner.run_migrations()] == ["applied"]
    finally:
        await runner.close()


async def test_a_fresh_runner_can_be_initialised_after_the_checks(url, migrations_dir):
    runner = fresh_runner(url, migrations_dir)
    await both_checks(runner)
    await runner.initialize()
    try:
        assert [r["status"] for r in await runner.run_migrations()] == ["applied"]
    finally:
        await runner.close()
