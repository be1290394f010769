from ncm_core.formats.python import PythonFormat
from ncm_core.hookspecs import hookimpl


@hookimpl
def ncm_register_migration_formats():
    return [PythonFormat]
