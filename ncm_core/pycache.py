"""Writing the files ncm keeps in ``__pycache__`` directories (the help pages, what static
reading found, which migrations import), as Python writes bytecode: whole or not at all, and
silently not where the directory cannot be written."""

from __future__ import annotations

import os
from contextlib import suppress
from pathlib import Path


def write(path: Path, data: bytes) -> None:
    """``data`` to ``path`` through a temporary file renamed over it, so a reader never sees
    half a file; nothing when the directory cannot be made or written."""
    temporary = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(exist_ok=True)
        temporary.write_bytes(data)
        os.replace(temporary, path)
    except OSError:
        with suppress(OSError):
            temporary.unlink(missing_ok=True)
