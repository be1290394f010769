"""ncm's PostgreSQL backend. The module imports nothing heavy until ncm asks for the backend."""

from ncm_core import hookimpl


@hookimpl
def ncm_register_backends():
    from ncm_postgres.backend import PostgresBackend

    return [PostgresBackend]
