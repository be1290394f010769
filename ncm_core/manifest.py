"""The manifest: a JSON file next to each backup archive saying what it holds and how to check it.

``ncm backup list`` reads only manifests, and a restore refuses an archive whose size or
sha256 differs from its manifest before it touches the database. A manifest never holds a
password or key: the database is named by its name (or file), not its URL.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

from ncm_core.errors import BackupError

FORMAT_VERSION = 1
SUFFIX = ".manifest.json"


@dataclass
class Manifest:
    archive: str
    backend: str
    database: str
    server_version: str
    ncm_version: str
    history_head: str | None
    created_at: str
    created_by: str
    size: int = 0
    sha256: str = ""
    encryption: dict[str, Any] | None = None
    details: dict[str, Any] = field(default_factory=dict)
    format_version: int = FORMAT_VERSION

    @property
    def encrypted(self) -> bool:
        return self.encryption is not None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def to_json(self) -> bytes:
        return (json.dumps(self.as_dict(), indent=2, sort_keys=True) + "\n").encode("utf-8")

    @classmethod
    def from_json(cls, data: bytes, where: str) -> Manifest:
        """Parse a manifest, with one clear error naming ``where`` when it is not one."""
        try:
            raw = json.loads(data)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise BackupError(f"{where}: not a valid manifest ({exc})") from None
        if not isinstance(raw, dict):
            raise BackupError(f"{where}: not a valid manifest (expected a JSON object)")
        version = raw.get("format_version")
        if version != FORMAT_VERSION:
            raise BackupError(f"{where}: manifest format {version!r} is not supported (this ncm reads {FORMAT_VERSION})")
        known = set(cls.__dataclass_fields__)
        try:
            return cls(**{k: v for k, v in raw.items() if k in known})
        except TypeError as exc:
            raise BackupError(f"{where}: incomplete manifest ({exc})") from None


def manifest_name(archive: str) -> str:
    return archive + SUFFIX
