"""Splitting a SQL file's section into the statements a driver takes one at a time.

Statements end at ``;`` as sqlparse's splitter finds them, so a ``;`` inside a string, a
comment, a PostgreSQL dollar-quoted body (``$$ ... $$``, ``$fn$ ... $fn$``) or a
``CREATE TRIGGER ... BEGIN ... END`` block does not end one. MySQL's ``DELIMITER //`` (a
command of the mysql client, never sent to the server) changes what ends a statement until
the next ``DELIMITER``: under it a statement ends at a line that ends with the delimiter, as
stored procedures in dump files are written. A statement that is only comments is dropped.
"""

from __future__ import annotations

import re

DELIMITER = re.compile(r"^\s*DELIMITER\s+(\S+)\s*$", re.IGNORECASE)


def split(lines: list[str]) -> list[str]:
    """The statements of ``lines`` (a section of a file, line endings kept), without their ``;``."""
    statements: list[str] = []
    delimiter, chunk = ";", []
    for line in lines:
        change = DELIMITER.match(line)
        if change is None:
            chunk.append(line)
            continue
        statements += _split_chunk("".join(chunk), delimiter)
        delimiter, chunk = change[1], []
    return statements + _split_chunk("".join(chunk), delimiter)


def _split_chunk(text: str, delimiter: str) -> list[str]:
    import sqlparse  # only when a SQL file is read

    if delimiter == ";":
        parts = sqlparse.split(text)
    else:
        parts, current = [], []
        for line in text.splitlines(keepends=True):
            stripped = line.rstrip()
            if stripped.endswith(delimiter):
                current.append(stripped[: -len(delimiter)])
                parts.append("".join(current))
                current = []
            else:
                current.append(line)
        parts.append("".join(current))
    return [s for s in (_bare(p) for p in parts) if s]


def _bare(statement: str) -> str:
    """The statement without the ``;`` that ends it and what follows it on its line (a
    comment); empty when it holds nothing but comments."""
    import sqlparse

    tokens = list(sqlparse.parse(statement)[0].flatten()) if statement.strip() else []
    while tokens and (tokens[-1].is_whitespace or tokens[-1].ttype in sqlparse.tokens.Comment
                      or tokens[-1].match(sqlparse.tokens.Punctuation, ";")):
        tokens.pop()
    if not any(not t.is_whitespace and t.ttype not in sqlparse.tokens.Comment for t in tokens):
        return ""
    return "".join(t.value for t in tokens).strip()
