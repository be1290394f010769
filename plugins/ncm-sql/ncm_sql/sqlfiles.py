"""SQL that a plugin keeps in .sql files beside its modules: readable and highlighted as SQL,
and not counted among (or tangled with) the Python around it."""

from __future__ import annotations

from functools import cache
from importlib import resources


@cache
def read_sql(package: str, name: str) -> str:
    return resources.files(package).joinpath(name).read_text(encoding="utf-8")
