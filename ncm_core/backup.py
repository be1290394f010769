"""Backups: where archives go (stores), how one is written, listed, verified and restored.

A backup is an archive (the backend's dump, encrypted when ``encryption_key`` is set) and a
manifest next to it (:mod:`ncm_core.manifest`). Both go through a *backup store*, a class
with ``PLUGIN_NAME`` registered through the hook ``ncm_register_backup_stores``; the
built-in local directory store is registered that way too, and ``backup_store`` in the
configuration picks one by name.

Everything is streamed: the backend writes its dump into a pipe of small writers
(encrypt -> hash -> store) and a restore reads the same way, so memory stays flat however
large the database is. A plain backup into the local store is the one exception: the
backend may write the archive file directly (a dump tool as its stdout, no copy through
ncm), and the file is hashed once the dump is done. A restore reads the whole archive once to check its sha256 (and,
when encrypted, every chunk's authentication tag) before the backend sees a byte of it.
"""

from __future__ import annotations

import errno
import hashlib
import io
import logging
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, ClassVar

from ncm_core import plugins, scratch
from ncm_core.errors import BackupError, ConfigError, NcmError
from ncm_core.history import actor
from ncm_core.hookspecs import hookimpl
from ncm_core.manifest import SUFFIX as MANIFEST_SUFFIX
from ncm_core.manifest import Manifest, manifest_name

if TYPE_CHECKING:
    from ncm_core.backend import Backend
    from ncm_core.config import MigrationConfig

log = logging.getLogger("ncm")
ARCHIVE_SUFFIX = ".ncmbak"
READ_SIZE = 1 << 20
PARTIAL_PREFIX = ".ncm-partial-"  # a backup file being written (StagedFile)


class BackupStore:
    """Where backups go: a flat namespace of files, e.g. ``backup_20240101_120000.ncmbak``.

    A third-party store (S3, a network share) subclasses this, sets ``PLUGIN_NAME`` and
    returns the class from ``ncm_register_backup_stores``; users select it with
    ``backup_store = "<PLUGIN_NAME>"``. Archives can be large: ``open_write`` must return
    a stream that does not keep what is written in memory.
    """

    PLUGIN_NAME: ClassVar[str]

    def __init__(self, location: str) -> None:
        self.location = location

    @classmethod
    def from_config(cls, config: MigrationConfig) -> BackupStore:
        """The store the configuration asks for; by default rooted at ``backup_directory``."""
        return cls(str(config.backup_directory))

    def open_write(self, name: str) -> BinaryIO:
        """A new file ``name``, opened for writing; refuse (FileExistsError) to overwrite one.

        Used as ``with store.open_write(name) as f:``. ``name`` must appear (in ``names()``,
        to ``open_read``) only when the block ends without an exception, complete; a writer
        that dies part way must leave nothing under ``name`` (write to a scratch name and
        rename it at the end, or upload in parts and complete the upload on close)."""
        raise NotImplementedError

    def open_read(self, name: str) -> BinaryIO:
        """File ``name`` opened for reading; FileNotFoundError when there is none."""
        raise NotImplementedError

    def names(self) -> Iterator[str]:
        """Every file name in the store."""
        raise NotImplementedError

    def delete(self, name: str) -> None:
        """Remove ``name``; no error when it does not exist."""
        raise NotImplementedError

    def exists(self, name: str) -> bool:
        return name in set(self.names())

    def where(self, name: str) -> str:
        """How messages and ``ncm backup list`` name a file of this store."""
        return f"{self.PLUGIN_NAME}:{self.location.rstrip('/')}/{name}"


class StagedFile(io.FileIO):
    """A file written under a locked scratch name beside ``final`` and given its real name
    only when its ``with`` block ends without an exception (fsync, then a hard link, which
    refuses to replace an existing file). A writer killed part way leaves only the scratch
    file, which no listing shows and the next write removes (:mod:`ncm_core.scratch`)."""

    def __init__(self, final: Path) -> None:
        fd, scratch_path = tempfile.mkstemp(dir=final.parent, prefix=f"{PARTIAL_PREFIX}{final.name}.")
        super().__init__(fd, "wb")
        scratch.hold(fd)
        self.final, self.scratch = final, Path(scratch_path)

    def __exit__(self, kind: Any, value: Any, tb: Any) -> None:
        try:
            if kind is None:
                self._publish()
        finally:
            self.close()
            self.scratch.unlink(missing_ok=True)

    def _publish(self) -> None:
        os.fsync(self.fileno())
        try:
            os.link(self.scratch, self.final)
        except FileExistsError:
            raise
        except OSError:  # a filesystem without hard links (FAT, some network shares)
            if self.final.exists():
                raise FileExistsError(errno.EEXIST, "File exists", str(self.final)) from None
            os.rename(self.scratch, self.final)
        _fsync_directory(self.final.parent)


def _fsync_directory(path: Path) -> None:
    """Make a new name in ``path`` durable (a crash right after keeps the file)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class LocalDirectoryStore(BackupStore):
    """Files in ``backup_directory``, readable by their owner only (mode 0600), each written
    whole or not at all (:class:`StagedFile`)."""

    PLUGIN_NAME = "local"

    @property
    def root(self) -> Path:
        return Path(self.location)

    def open_write(self, name: str) -> BinaryIO:
        self.root.mkdir(parents=True, exist_ok=True, mode=0o700)
        scratch.sweep(self.root, PARTIAL_PREFIX)
        if (self.root / name).exists():
            raise FileExistsError(errno.EEXIST, "File exists", str(self.root / name))
        return StagedFile(self.root / name)  # type: ignore[return-value]

    def open_read(self, name: str) -> BinaryIO:
        return open(self.root / name, "rb")

    def names(self) -> Iterator[str]:
        if self.root.is_dir():
            yield from sorted(p.name for p in self.root.iterdir()
                              if p.is_file() and not p.name.startswith(PARTIAL_PREFIX))

    def delete(self, name: str) -> None:
        (self.root / name).unlink(missing_ok=True)

    def exists(self, name: str) -> bool:
        return (self.root / name).exists()

    def where(self, name: str) -> str:
        return str(self.root / name)


@hookimpl
def ncm_register_backup_stores():
    return [LocalDirectoryStore]


# -- choosing a store and a name -------------------------------------------------------
def store_for(config: MigrationConfig) -> BackupStore:
    stores = plugins.collect("ncm_register_backup_stores")
    cls = stores.get(config.backup_store)
    if cls is None:
        raise ConfigError(f"backup_store {config.backup_store!r} is not an installed backup store "
                          f"(installed: {', '.join(sorted(stores))})")
    return cls.from_config(config)


def _is_bare_name(path: str | os.PathLike[str]) -> bool:
    return str(path) == Path(path).name


def _target(config: MigrationConfig, path: str | os.PathLike[str] | None) -> tuple[BackupStore, str, bool]:
    """Where a new backup goes, and whether it is in the configured store (retention applies).

    No path: a fresh name in the store. A bare name (``backup_20240101.sql``): that name in
    the store. A path with a directory (``/srv/dumps/x.ncmbak``): that file.
    """
    if path is None:
        store = store_for(config)
        stamp = datetime.now(timezone.utc).strftime("%Y%m%d_%H%M%S")
        name, n = f"backup_{stamp}{ARCHIVE_SUFFIX}", 1
        while store.exists(name) or store.exists(manifest_name(name)):
            n += 1
            name = f"backup_{stamp}_{n}{ARCHIVE_SUFFIX}"
        return store, name, True
    name = Path(path).name
    if not name or name.endswith(MANIFEST_SUFFIX):
        raise BackupError(f"{path}: not a usable backup file name")
    if _is_bare_name(path):
        return store_for(config), name, True
    return LocalDirectoryStore(str(Path(path).parent)), name, False


def locate(config: MigrationConfig, path: str | os.PathLike[str]) -> tuple[BackupStore, str]:
    """The store and name of an existing backup: a name in the configured store, else a file.

    The path of the manifest is accepted for the archive's.
    """
    text = str(path)
    if text.endswith(MANIFEST_SUFFIX):
        text = text[: -len(MANIFEST_SUFFIX)]
    if _is_bare_name(text):
        store = store_for(config)
        if store.exists(text) or not Path(text).is_file():
            return store, text
    return LocalDirectoryStore(str(Path(text).parent)), Path(text).name


# -- writing ---------------------------------------------------------------------------
class _HashingWriter(io.RawIOBase):
    """Counts and hashes what passes through to ``raw``: the manifest's size and sha256."""

    def __init__(self, raw: BinaryIO) -> None:
        super().__init__()
        self._raw, self.size, self.sha256 = raw, 0, hashlib.sha256()

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        self._raw.write(data)
        self.sha256.update(data)
        n = memoryview(data).nbytes
        self.size += n
        return n

    def digest(self) -> tuple[int, str]:
        """The size and sha256 of what was written."""
        return self.size, self.sha256.hexdigest()


class _StagedFileWriter(io.RawIOBase):
    """A plain archive's own file in the local store, offered to the backend with its
    ``fileno()``: a dump tool writes into it directly, and the size and sha256 are read back
    from the file when the dump is done (what the manifest vouches for is what is on disk)."""

    def __init__(self, raw: StagedFile) -> None:
        super().__init__()
        self._raw = raw

    def writable(self) -> bool:
        return True

    def fileno(self) -> int:
        return self._raw.fileno()

    def write(self, data: Any) -> int:
        """All of ``data`` (the file's own write may take part of it: the read-back hash
        would then vouch for a file missing the rest)."""
        view, done = memoryview(data).cast("B"), 0
        while done < len(view):
            done += self._raw.write(view[done:]) or 0
        return done

    def digest(self) -> tuple[int, str]:
        sha256, size = hashlib.sha256(), 0
        with open(self._raw.scratch, "rb") as f:
            while chunk := f.read(READ_SIZE):
                sha256.update(chunk)
                size += len(chunk)
        return size, sha256.hexdigest()


def passphrase(config: MigrationConfig) -> str | None:
    key = config.encryption_key.get_secret_value() if config.encryption_key is not None else ""
    return key or None


def ncm_version() -> str:
    try:
        return metadata.version("ncm-core")
    except metadata.PackageNotFoundError:
        return "0+unknown"


async def create_backup(backend: Backend, config: MigrationConfig, path: str | os.PathLike[str] | None,
                        history_head: str | None) -> tuple[Manifest, str]:
    """Dump the database into a new archive and write its manifest; return both and where."""
    store, name, in_store = _target(config, path)
    where = store.where(name)
    if store.exists(name) or store.exists(manifest_name(name)):
        raise BackupError(f"{where} already exists; choose another name")
    info = await backend.server_info()
    key = passphrase(config)
    manifest = Manifest(
        archive=name, backend=backend.PLUGIN_NAME, database=str(info.get("database", "")),
        server_version=str(info.get("server_version", "")), ncm_version=ncm_version(),
        history_head=history_head, created_at=datetime.now(timezone.utc).isoformat(), created_by=actor(),
    )
    opened = False
    try:
        with store.open_write(name) as raw:
            opened = True
            hashing: _HashingWriter | _StagedFileWriter
            if key is not None:
                from ncm_core.encryption import EncryptingWriter, describe

                manifest.encryption = describe()
                hashing = _HashingWriter(raw)
                sink: io.RawIOBase = EncryptingWriter(hashing, key)
            elif isinstance(raw, StagedFile):
                sink = hashing = _StagedFileWriter(raw)
            else:
                sink = hashing = _HashingWriter(raw)
            manifest.details = dict(await backend.dump(sink) or {})
            sink.close()
            import asyncio  # here, not at the top: this module loads with the plugins for ncm --help

            manifest.size, manifest.sha256 = await asyncio.to_thread(hashing.digest)
        with store.open_write(manifest_name(name)) as out:
            out.write(manifest.to_json())
    except BaseException as exc:
        if opened:
            _discard(store, name, manifest_name(name))
        if isinstance(exc, Exception):
            raise _as_backup_error(exc, f"backup to {where} failed", config) from exc
        raise
    if in_store:
        prune(store, config.backup_retention, manifest)
    return manifest, where


def _discard(store: BackupStore, *names: str) -> None:
    """Remove what a failed backup left; the failure being reported matters more than this."""
    for name in names:
        try:
            store.delete(name)
        except OSError as exc:
            log.warning("could not remove %s: %s", store.where(name), exc)


def _as_backup_error(exc: Exception, doing: str, config: MigrationConfig) -> NcmError:
    if isinstance(exc, NcmError):
        return exc
    if isinstance(exc, NotImplementedError):
        return BackupError(str(exc))
    if isinstance(exc, OSError) and exc.strerror:
        return BackupError(config.mask(f"{doing}: {exc.strerror}" + (f": {exc.filename}" if exc.filename else "")))
    return BackupError(config.mask(f"{doing}: {type(exc).__name__}: {exc}".splitlines()[0]))


# -- listing and retention -------------------------------------------------------------
def _manifests(store: BackupStore) -> list[tuple[str, Manifest]]:
    """(archive name, manifest) for every readable manifest in the store, newest first."""
    found = []
    for name in store.names():
        if not name.endswith(MANIFEST_SUFFIX):
            continue
        try:
            with store.open_read(name) as f:
                found.append((name[: -len(MANIFEST_SUFFIX)], Manifest.from_json(f.read(), store.where(name))))
        except (BackupError, OSError) as exc:
            log.warning("skipping %s: %s", store.where(name), exc)
    return sorted(found, key=lambda item: (item[1].created_at, item[0]), reverse=True)


def list_backups(config: MigrationConfig) -> list[tuple[Manifest, str]]:
    """Every backup in the configured store with where it is, newest first."""
    store = store_for(config)
    return [(m, store.where(name)) for name, m in _manifests(store)]


def prune(store: BackupStore, keep: int, latest: Manifest) -> list[str]:
    """Delete all but the newest ``keep`` backups of ``latest``'s database (keep < 1: none)."""
    if keep < 1:
        return []
    same = [name for name, m in _manifests(store) if (m.backend, m.database) == (latest.backend, latest.database)]
    for name in same[keep:]:
        store.delete(name)
        store.delete(manifest_name(name))
        log.warning("retention: deleted %s (backup_retention = %d keeps the newest backups of this database "
                    "in the store, named ones included; 0 keeps all)", store.where(name), keep)
    return same[keep:]


# -- verifying and restoring -----------------------------------------------------------
class _HashingReader:
    def __init__(self, raw: BinaryIO) -> None:
        self._raw, self.size, self.sha256 = raw, 0, hashlib.sha256()

    def read(self, size: int = -1) -> bytes:
        data = self._raw.read(size)
        self.sha256.update(data)
        self.size += len(data)
        return data


@dataclass
class VerifiedBackup:
    store: BackupStore
    name: str
    where: str
    manifest: Manifest


async def verify_backup(backend: Backend, config: MigrationConfig, path: str | os.PathLike[str]) -> VerifiedBackup:
    """Check a backup end to end without touching the database; BackupError says what is wrong."""
    store, name = locate(config, path)
    where = store.where(name)
    try:
        with store.open_read(manifest_name(name)) as f:
            manifest = Manifest.from_json(f.read(), store.where(manifest_name(name)))
    except FileNotFoundError:
        if not store.exists(name):
            raise BackupError(f"backup {where} not found") from None
        raise BackupError(f"{where} has no manifest ({manifest_name(name)}); ncm restores only what it can verify") from None
    except OSError as exc:
        raise _as_backup_error(exc, f"cannot read the manifest of {where}", config) from None
    if manifest.backend != backend.PLUGIN_NAME:
        raise BackupError(f"{where} is a {manifest.backend} backup; this database uses the {backend.PLUGIN_NAME} backend")
    key = passphrase(config)
    if manifest.encrypted and key is None:
        raise BackupError(f"{where} is encrypted: set MIGRATION_ENCRYPTION_KEY to the passphrase it was made with")
    import asyncio  # here, not at the top: this module loads with the plugins for ncm --help

    await asyncio.to_thread(_check_archive, store, name, where, manifest, key, config)
    return VerifiedBackup(store, name, where, manifest)


def _check_archive(store: BackupStore, name: str, where: str, manifest: Manifest, key: str | None,
                   config: MigrationConfig) -> None:
    undecryptable: BackupError | None = None
    try:
        with store.open_read(name) as raw:
            hashing = _HashingReader(raw)
            if manifest.encrypted:
                from ncm_core.encryption import DecryptingReader

                try:
                    reader = DecryptingReader(hashing, key or "")
                    while reader.read(READ_SIZE):
                        pass
                except BackupError as exc:
                    undecryptable = exc
            while hashing.read(READ_SIZE):
                pass
    except FileNotFoundError:
        raise BackupError(f"backup {where} not found (its manifest is there)") from None
    except OSError as exc:
        raise _as_backup_error(exc, f"cannot read {where}", config) from None
    if hashing.size != manifest.size or hashing.sha256.hexdigest() != manifest.sha256:
        raise BackupError(f"{where} does not match its manifest (size or sha256 differs): "
                          "the file is damaged or was altered; nothing was restored")
    if undecryptable is not None:
        raise BackupError(f"cannot decrypt {where}: the encryption key is wrong (or the archive and its "
                          "manifest were altered together); nothing was restored")


async def restore_verified(backend: Backend, config: MigrationConfig, backup: VerifiedBackup) -> None:
    """Feed a verified archive's plaintext to the backend, which replaces the database's contents."""
    try:
        with backup.store.open_read(backup.name) as raw:
            if backup.manifest.encrypted:
                from ncm_core.encryption import DecryptingReader

                await backend.restore(DecryptingReader(raw, passphrase(config) or ""))
            else:
                await backend.restore(raw)
    except Exception as exc:
        raise _as_backup_error(exc, f"restore from {backup.where} failed", config) from exc
