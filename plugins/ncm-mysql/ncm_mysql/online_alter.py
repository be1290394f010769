"""ALTER TABLE with the least locking the server allows (``[mysql] online_alter``).

Each ALTER TABLE that names no ALGORITHM or LOCK of its own is tried as ALGORITHM=INSTANT
(a change to the table's metadata only), then as ALGORITHM=INPLACE, LOCK=NONE (rebuilt or
indexed while reads and writes go on), and only then as written, which the server runs by its
default, a table copy when neither of those could do it. The server refuses an algorithm it
cannot use before it changes anything (ER_ALTER_OPERATION_NOT_SUPPORTED, ..._REASON), so a
refused try costs a round trip and nothing else. The algorithm used is logged; a copy is a
warning, since it blocks writes to the table for as long as the copy takes.
"""

from __future__ import annotations

import logging
import re
from typing import Any

log = logging.getLogger("ncm")

ALTER = re.compile(r"^\s*ALTER\s+(?:ONLINE\s+)?(?:IGNORE\s+)?TABLE\s+(?:IF\s+EXISTS\s+)?"
                   r"((?:`[^`]+`|\w+)(?:\.(?:`[^`]+`|\w+))?)\s+", re.IGNORECASE)
OWN_CHOICE = re.compile(r"\b(ALGORITHM|LOCK)\s*=|;", re.IGNORECASE)
TRIES = ("ALGORITHM=INSTANT", "ALGORITHM=INPLACE, LOCK=NONE")
REFUSED = {1845, 1846}
"""ER_ALTER_OPERATION_NOT_SUPPORTED and ER_ALTER_OPERATION_NOT_SUPPORTED_REASON."""


def execute(cursor: Any, statement: str, parameters: Any, context: Any) -> bool | None:
    """A ``do_execute`` listener: an ALTER TABLE through each of TRIES, then as written;
    None lets SQLAlchemy run any other statement itself."""
    match = ALTER.match(statement)
    if match is None or OWN_CHOICE.search(statement):
        return None
    table, head, rest = match[1], statement[:match.end()], statement[match.end():]
    for clause in TRIES:
        try:
            cursor.execute(f"{head}{clause}, {rest}", parameters)
        except Exception as exc:
            if getattr(exc, "args", (None,))[0] not in REFUSED:
                raise
            continue
        log.info("ALTER TABLE %s: %s", table, clause)
        return True
    cursor.execute(statement, parameters)
    log.warning("ALTER TABLE %s: the server's default algorithm, a table copy (it refused ALGORITHM=INSTANT "
                "and ALGORITHM=INPLACE, LOCK=NONE)", table)
    return True
