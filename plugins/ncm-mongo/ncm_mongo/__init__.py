"""ncm's MongoDB backend. The module imports no driver until ncm asks for the backend."""

from ncm_core import hookimpl


@hookimpl
def ncm_register_backends():
    from ncm_mongo.backend import MongoBackend

    return [MongoBackend]
