"""ncm's MySQL/MariaDB backend. Nothing heavy is imported until a run needs this backend."""

from ncm_core import hookimpl

SCHEMES = ("mysql+aiomysql", "mysql", "mariadb+aiomysql", "mariadb")


@hookimpl
def ncm_register_backends(scheme):
    if scheme is not None and scheme not in SCHEMES:
        return []
    from ncm_mysql.backend import MySQLBackend

    return [MySQLBackend]


@hookimpl
def ncm_register_history_readers(scheme):
    if scheme is not None and scheme not in SCHEMES:
        return []
    from ncm_mysql.reader import MySQLReader

    return [MySQLReader]


@hookimpl
def ncm_register_settings():
    from ncm_mysql.settings import MySQLSettings

    return [MySQLSettings]


@hookimpl
def ncm_register_lint_rules():
    from ncm_mysql.lint import RULES

    return RULES
