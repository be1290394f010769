"""Where in the migration file an operation was called: the innermost frame of that file."""

from __future__ import annotations

import os
import sys
from pathlib import Path


def caller_line(path: Path) -> int | None:
    """The line of the current call stack's innermost frame that runs ``path`` (which the
    loader runs by its absolute path)."""
    names = {str(path), os.path.abspath(path)}
    frame = sys._getframe(1)
    while frame is not None:
        if frame.f_code.co_filename in names:
            return frame.f_lineno
        frame = frame.f_back
    return None


def statement_line(path: Path, statement: str) -> int | None:
    """The line where ``statement`` (from a SQL file) starts: found by its first line."""
    first = statement.strip().splitlines()[0].strip() if statement.strip() else ""
    try:
        lines = path.read_text().splitlines()
    except (OSError, UnicodeDecodeError):
        return None
    return next((n for n, text in enumerate(lines, start=1) if first and first in text), None)
