"""ncm's MongoDB backend. Nothing heavy is imported until a run needs this backend."""

from ncm_core import hookimpl

SCHEMES = ("mongodb", "mongodb+srv")


@hookimpl
def ncm_register_backends(scheme):
    if scheme is not None and scheme not in SCHEMES:
        return []
    from ncm_mongo.backend import MongoBackend

    return [MongoBackend]


@hookimpl
def ncm_register_lint_rules():
    from ncm_mongo.lint import RULES

    return RULES
