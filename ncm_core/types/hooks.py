from ncm_core.hookspecs import hookimpl
from ncm_core.types.builtin import Data, Index, Schema, Seed


@hookimpl
def ncm_register_migration_types():
    return [Schema, Data, Index, Seed]
