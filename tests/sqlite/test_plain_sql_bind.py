"""``op.get_bind().execute("plain SQL")`` on SQLite, as the spec's rollback-safety downgrade writes it."""

from rollback_safety import NOT_SQL, SPEC_ROLLBACK_SAFETY, run_sql, tables


async def test_the_specs_safe_downgrade_drops_an_empty_table(ncm, project):
    (project / "migrations" / "001_add_users_table.py").write_text(SPEC_ROLLBACK_SAFETY, encoding="utf-8")
    ncm("run")
    assert "1 migration(s) reverted" in ncm("rollback", "--version", "001_add_users_table").stdout
    assert "users" not in await tables(f"sqlite+aiosqlite:///{project}/app.db")


async def test_the_specs_safe_downgrade_refuses_a_table_with_data(ncm, project):
    url = f"sqlite+aiosqlite:///{project}/app.db"
    (project / "migrations" / "001_add_users_table.py").write_text(SPEC_ROLLBACK_SAFETY, encoding="utf-8")
    ncm("run")
    await run_sql(url, "INSERT INTO users (id, username) VALUES (1, 'ada')")
    done = ncm("rollback", "--version", "001_add_users_table", check=1)
    assert "Cannot drop table with data" in done.stderr
    assert "users" in await tables(url)


def test_executing_what_is_not_sql_names_the_file_and_line_and_what_to_write(ncm, project):
    (project / "migrations" / "001_not_sql.py").write_text(NOT_SQL, encoding="utf-8")
    done = ncm("run", check=1)
    assert "list ['SELECT 1'] is not SQL: pass the SQL as a string or a SQLAlchemy statement" in done.stderr
    assert "migrations/001_not_sql.py:6" in done.stderr
