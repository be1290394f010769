"""``op.get_bind().execute("plain SQL")`` on postgres, as the spec's rollback-safety downgrade writes it."""

from rollback_safety import NOT_SQL, SPEC_ROLLBACK_SAFETY, run_sql, tables


async def test_the_specs_safe_downgrade_drops_an_empty_table(ncm, migrations_dir, database_url):
    (migrations_dir / "001_add_users_table.py").write_text(SPEC_ROLLBACK_SAFETY, encoding="utf-8")
    assert ncm(database_url, "run").returncode == 0
    done = ncm(database_url, "rollback", "--version", "001_add_users_table")
    assert done.returncode == 0 and "1 migration(s) reverted" in done.stdout, done.stderr
    assert "users" not in await tables(database_url)


async def test_the_specs_safe_downgrade_refuses_a_table_with_data(ncm, migrations_dir, database_url):
    (migrations_dir / "001_add_users_table.py").write_text(SPEC_ROLLBACK_SAFETY, encoding="utf-8")
    assert ncm(database_url, "run").returncode == 0
    await run_sql(database_url, "INSERT INTO users (id, username) VALUES (1, 'ada')")
    done = ncm(database_url, "rollback", "--version", "001_add_users_table")
    assert done.returncode == 1 and "Cannot drop table with data" in done.stderr
    assert "users" in await tables(database_url)


def test_executing_what_is_not_sql_names_the_file_and_line_and_what_to_write(ncm, migrations_dir, database_url):
    (migrations_dir / "001_not_sql.py").write_text(NOT_SQL, encoding="utf-8")
    done = ncm(database_url, "run")
    assert done.returncode == 1
    assert "list ['SELECT 1'] is not SQL: pass the SQL as a string or a SQLAlchemy statement" in done.stderr
    assert "001_not_sql.py:6" in done.stderr
