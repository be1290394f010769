"""The built-in rules every backend shares, by family: DS destructive, BC backward-incompatible,
MF data-dependent. Backend plugins register their own (LK locking, MG MongoDB) the same way."""


def table_word(database_type: str) -> str:
    return "collection" if database_type == "mongodb" else "table"


def column_word(database_type: str) -> str:
    return "field" if database_type == "mongodb" else "column"
