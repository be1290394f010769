"""ncm's SQLite backend. Nothing heavy is imported until a run needs this backend."""

from ncm_core import hookimpl

SCHEMES = ("sqlite+aiosqlite", "sqlite")


@hookimpl
def ncm_register_backends(scheme):
    if scheme is not None and scheme not in SCHEMES:
        return []
    from ncm_sqlite.backend import SQLiteBackend

    return [SQLiteBackend]


@hookimpl
def ncm_register_history_readers(scheme):
    if scheme is not None and scheme not in SCHEMES:
        return []
    from ncm_sqlite.reader import SQLiteReader

    return [SQLiteReader]
