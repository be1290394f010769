"""Backup stores: where backup archives and their manifests are kept.

A store is a class with ``PLUGIN_NAME`` registered through ``ncm_register_backup_stores``;
the local directory store below is registered that way too.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO, ClassVar

from ncm_core.hookspecs import hookimpl


class BackupStore:
    """Where backups go. ``name`` is a file name such as ``20240101_120000.ncmbak``."""

    PLUGIN_NAME: ClassVar[str]

    def __init__(self, location: str) -> None:
        self.location = location

    def open_write(self, name: str) -> BinaryIO:
        raise NotImplementedError

    def open_read(self, name: str) -> BinaryIO:
        raise NotImplementedError

    def names(self) -> Iterator[str]:
        raise NotImplementedError

    def delete(self, name: str) -> None:
        raise NotImplementedError


class LocalDirectoryStore(BackupStore):
    """Files in ``backup_directory``, readable by their owner only (mode 0600)."""

    PLUGIN_NAME = "local"

    @property
    def root(self) -> Path:
        return Path(self.location)

    def open_write(self, name: str) -> BinaryIO:
        self.root.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(self.root / name, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        return os.fdopen(fd, "wb")

    def open_read(self, name: str) -> BinaryIO:
        return open(self.root / name, "rb")

    def names(self) -> Iterator[str]:
        if self.root.is_dir():
            yield from sorted(p.name for p in self.root.iterdir() if p.is_file())

    def delete(self, name: str) -> None:
        (self.root / name).unlink(missing_ok=True)


@hookimpl
def ncm_register_backup_stores():
    return [LocalDirectoryStore]
