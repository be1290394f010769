"""A SQL-file migration on MongoDB: refused by name before anything runs (MongoDB keeps its
Python migrations)."""

from pymongo import MongoClient


def test_a_sql_file_is_refused_saying_mongodb_takes_python_migrations(mongo_url, project, ncm):
    (project / "migrations" / "001_users.sql").write_text("-- migrate:up\nCREATE TABLE users (id integer);\n")
    done = ncm("run", env={"MIGRATION_DATABASE_URL": mongo_url}, check=2)
    assert done.stderr == ("error: migrations/001_users.sql: is a SQL migration, and MongoDB migrations await "
                           "PyMongo's async API: this database takes only Python migrations "
                           "(`async def upgrade(ctx)`)\n")
    with MongoClient(mongo_url, serverSelectionTimeoutMS=5000) as client:
        assert client.get_default_database()["ncm_migrations"].count_documents({}) == 0
