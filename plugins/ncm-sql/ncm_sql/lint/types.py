"""Column type changes compared by meaning: SQL type names (as Alembic compiles them, or as a
statement writes them) parsed with sqlglot, so ``character varying(20)`` and ``VARCHAR(20)``
are one type."""

from __future__ import annotations

from dataclasses import dataclass

from ncm_sql.lint.statements import DIALECTS

INTEGERS = {"TINYINT": 1, "SMALLINT": 2, "MEDIUMINT": 3, "INT": 4, "BIGINT": 8}
FLOATS = {"FLOAT": 4, "DOUBLE": 8}
STRINGS = ("VARCHAR", "CHAR", "NVARCHAR", "NCHAR", "TEXT", "MEDIUMTEXT", "LONGTEXT", "TINYTEXT")
UNBOUNDED = {"TEXT": 2**32, "MEDIUMTEXT": 2**24, "LONGTEXT": 2**32, "TINYTEXT": 255}


@dataclass(frozen=True)
class SqlType:
    name: str
    params: tuple[str, ...]

    @property
    def length(self) -> int | None:
        """A string type's limit (None: none)."""
        if self.name in UNBOUNDED:
            return UNBOUNDED[self.name]
        return int(self.params[0]) if self.params and self.params[0].isdigit() else None


def parse(text: str | None, dialect: str) -> SqlType | None:
    if not text:
        return None
    from sqlglot import exp
    from sqlglot.errors import SqlglotError

    try:
        built = exp.DataType.build(text, dialect=DIALECTS.get(dialect, dialect))
    except (SqlglotError, ValueError):
        return None
    return SqlType(built.this.name, tuple(p.sql() for p in built.expressions))


def narrowing(old: SqlType, new: SqlType) -> str | None:
    """Why values of ``old`` may not fit ``new``, or None when every one does."""
    if old == new:
        return None
    if old.name in INTEGERS and new.name in INTEGERS:
        return "a smaller integer type" if INTEGERS[new.name] < INTEGERS[old.name] else None
    if old.name in FLOATS and new.name in FLOATS:
        return "less precision" if FLOATS[new.name] < FLOATS[old.name] else None
    if old.name in STRINGS and new.name in STRINGS:
        before, after = old.length, new.length
        if after is not None and (before is None or after < before):
            return f"a shorter string (at most {after} characters)"
        return None
    if old.name == new.name == "DECIMAL":
        return "fewer digits" if _digits(new) < _digits(old) else None
    if old.name in INTEGERS and new.name == "DECIMAL":
        return None if _digits(new)[0] >= 19 or not new.params else "fewer digits"
    if old.name in INTEGERS and new.name in FLOATS | dict.fromkeys(STRINGS):
        return None
    return f"another kind of type ({old.name} to {new.name}): values that do not convert fail"


def _digits(t: SqlType) -> tuple[int, int]:
    """(integer digits, scale) of a DECIMAL; unconstrained counts as unbounded."""
    if not t.params:
        return (10**6, 10**6)
    precision = int(t.params[0])
    scale = int(t.params[1]) if len(t.params) > 1 else 0
    return (precision - scale, scale)


def enum_values(t: SqlType) -> list[str]:
    return list(t.params) if t.name in ("ENUM", "SET") else []
