"""`ncm run --sql` on MongoDB: one line saying that offline scripts are for SQL databases."""

from __future__ import annotations


def test_run_sql_says_mongodb_has_no_offline_script(ncm, project, mongo_url):
    (project / "migrations" / "001_users.py").write_text(
        '"""Users."""\n\n\nasync def upgrade(ctx):\n    await ctx.db.create_collection("users")\n')
    done = ncm("run", "--sql", "--from", "base", env={"MIGRATION_DATABASE_URL": mongo_url}, check=2)
    assert done.stdout == ""
    assert done.stderr.strip() == "error: the mongodb backend cannot write a migration plan as SQL (--sql)"
