"""A finding: one thing a migration will do that a reviewer should know before it ships."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from enum import Enum
from pathlib import Path
from typing import Any


class Severity(str, Enum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"
    OFF = "off"
    """Set in ``[lint.severity]`` to silence a code: its findings are not reported."""


@dataclass
class Finding:
    """``code`` is stable (DS102 means a dropped table in every release); ``message`` says
    what will happen and ``safer`` the safer way. ``observed`` marks what trace mode saw
    the database do, as opposed to what the operations say it will do."""

    code: str
    severity: Severity
    version: str
    path: Path
    line: int | None
    message: str
    safer: str = ""
    observed: bool = False
    suppressed: str | None = None
    """The reason a ``# ncm: allow CODE -- reason`` comment gave, when one covers this finding."""

    @property
    def blocking(self) -> bool:
        return self.severity is Severity.ERROR and self.suppressed is None

    def location(self) -> str:
        return f"{self.path}:{self.line}" if self.line else str(self.path)

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        data.update(severity=self.severity.value, path=str(self.path))
        return data
