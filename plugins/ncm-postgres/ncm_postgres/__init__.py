"""ncm's PostgreSQL backend. Nothing heavy is imported until a run needs this backend."""

from ncm_core import hookimpl

SCHEMES = ("postgresql+asyncpg", "postgresql", "postgres")


@hookimpl
def ncm_register_backends(scheme):
    if scheme is not None and scheme not in SCHEMES:
        return []
    from ncm_postgres.backend import PostgresBackend

    return [PostgresBackend]


@hookimpl
def ncm_register_history_readers(scheme):
    if scheme is not None and scheme not in SCHEMES:
        return []
    from ncm_postgres.reader import PostgresReader

    return [PostgresReader]


@hookimpl
def ncm_register_settings():
    from ncm_postgres.settings import PostgresSettings

    return [PostgresSettings]


@hookimpl
def ncm_register_lint_rules():
    from ncm_postgres.lint import RULES

    return RULES
