"""DatabaseUtils' checks on PostgreSQL, with a runner initialised or not."""

from database_utils_checks import both_checks, fresh_runner


async def test_checks_on_a_fresh_runner_connect_and_leave_it_uninitialised(database_url, migrations_dir):
    runner = fresh_runner(database_url, migrations_dir)
    is_connected, results = await both_checks(runner)
    assert is_connected is True
    assert results["connection"] is True and results["pending"] == 1 and "error" not in results
    assert results["backend"] == "postgresql" and runner.backend is None


async def test_checks_on_an_initialised_runner_leave_it_connected(database_url, migrations_dir):
    runner = fresh_runner(database_url, migrations_dir)
    await runner.initialize()
    try:
        is_connected, results = await both_checks(runner)
        assert is_connected is True and results["connection"] is True and results["migrations"] == 1
        assert [r["status"] for r in await runner.run_migrations()] == ["applied"]
    finally:
        await runner.close()


async def test_checks_on_a_fresh_runner_of_a_missing_database_say_so_without_the_password(database_url,
                                                                                        migrations_dir):
    import sqlalchemy as sa

    url = sa.make_url(database_url)
    wrong = url.set(database=f"{url.database}_missing", password="wrong-pw-123").render_as_string(hide_password=False)
    runner = fresh_runner(wrong, migrations_dir)
    is_connected, results = await both_checks(runner)
    assert is_connected is False and results["connection"] is False
    assert "wrong-pw-123" not in str(results) and runner.backend is None
