"""Writing, listing, checking and restoring backup archives, with a stand-in for a backend.

The backend's side (dump and restore of a real database) is tested per backend; here the
"database" is a byte string, so what is checked is the core's part: manifests, files,
retention, stores, and that nothing reaches the backend before the archive is verified.
"""

import hashlib
import io
import json
import os
import stat
from collections.abc import Iterator
from typing import Any

import pytest

from ncm_core import backup
from ncm_core.backup import BackupStore
from ncm_core.config import MigrationConfig
from ncm_core.errors import BackupError, ConfigError
from ncm_core.hookspecs import hookimpl
from ncm_core.manifest import Manifest

PAYLOAD = os.urandom(300_000)
PASSWORD = "s3cr3t-pw"


class FakeBackend:
    """Dumps ``data`` in chunks and records what a restore received."""

    PLUGIN_NAME = "fake"

    def __init__(self, data: bytes = PAYLOAD, database: str = "shop") -> None:
        self.data, self.database, self.restored = data, database, None

    async def server_info(self) -> dict[str, str]:
        return {"backend": "fake", "server_version": "1.2.3", "database": self.database}

    async def dump(self, out: Any) -> dict[str, Any]:
        for start in range(0, len(self.data), 65536):
            out.write(self.data[start : start + 65536])
        return {"format": "fake bytes"}

    async def restore(self, source: Any) -> None:
        self.restored = source.read()


def config(tmp_path, **more: Any) -> MigrationConfig:
    more.setdefault("backup_directory", tmp_path / "backups")
    return MigrationConfig(database_url=f"postgresql+asyncpg://app:{PASSWORD}@db.example/shop", **more)


async def make(tmp_path, path=None, head="001_users", backend=None, **more) -> tuple[Manifest, str]:
    return await backup.create_backup(backend or FakeBackend(), config(tmp_path, **more), path, head)


async def test_manifest_describes_the_backup(tmp_path):
    manifest, where = await make(tmp_path)
    saved = json.loads((tmp_path / "backups" / (manifest.archive + ".manifest.json")).read_text())
    assert saved["backend"] == "fake" and saved["database"] == "shop" and saved["server_version"] == "1.2.3"
    assert saved["history_head"] == "001_users" and saved["ncm_version"] and saved["created_at"].endswith("+00:00")
    assert saved["size"] == len(PAYLOAD) == os.path.getsize(where)
    assert saved["sha256"] == hashlib.sha256(PAYLOAD).hexdigest()
    assert saved["encryption"] is None and saved["details"] == {"format": "fake bytes"}


async def test_manifest_never_holds_the_password_or_the_key(tmp_path):
    manifest, where = await make(tmp_path, encryption_key="my-passphrase")
    text = (tmp_path / "backups" / (manifest.archive + ".manifest.json")).read_text()
    assert PASSWORD not in text and "my-passphrase" not in text
    assert json.loads(text)["encryption"]["cipher"] == "AES-256-GCM"


async def test_archive_and_manifest_are_readable_by_their_owner_only(tmp_path):
    manifest, where = await make(tmp_path)
    for path in (where, where + ".manifest.json"):
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600


async def test_a_bare_name_goes_in_the_store_and_a_path_is_a_file(tmp_path):
    _, in_store = await make(tmp_path, "backup_20240101.sql")
    _, as_file = await make(tmp_path, tmp_path / "elsewhere" / "copy.bak")
    assert in_store == str(tmp_path / "backups" / "backup_20240101.sql")
    assert as_file == str(tmp_path / "elsewhere" / "copy.bak")
    assert (tmp_path / "elsewhere" / "copy.bak.manifest.json").is_file()


async def test_an_existing_backup_is_never_overwritten(tmp_path):
    await make(tmp_path, "nightly.bak")
    with pytest.raises(BackupError, match="already exists"):
        await make(tmp_path, "nightly.bak")


async def test_retention_keeps_the_newest_backups_of_the_database(tmp_path):
    made = [(await make(tmp_path, f"b{i}.bak", backup_retention=2))[0].archive for i in range(4)]
    await make(tmp_path, "other.bak", backend=FakeBackend(database="other"), backup_retention=2)
    listed = [m.archive for m, _ in backup.list_backups(config(tmp_path))]
    assert listed == ["other.bak", made[3], made[2]]
    assert sorted(os.listdir(tmp_path / "backups")) == sorted(
        [n for a in ("other.bak", made[3], made[2]) for n in (a, a + ".manifest.json")])


async def test_retention_of_zero_keeps_everything(tmp_path):
    for i in range(3):
        await make(tmp_path, f"b{i}.bak", backup_retention=0)
    assert len(backup.list_backups(config(tmp_path))) == 3


async def test_list_is_newest_first_and_skips_unreadable_manifests(tmp_path):
    first, _ = await make(tmp_path)
    second, _ = await make(tmp_path)
    (tmp_path / "backups" / "junk.manifest.json").write_text("{not json")
    assert [m.archive for m, _ in backup.list_backups(config(tmp_path))] == [second.archive, first.archive]


async def test_a_failed_dump_leaves_no_file_behind(tmp_path):
    class Broken(FakeBackend):
        async def dump(self, out):
            out.write(b"half a dump")
            raise RuntimeError(f"connection to app:{PASSWORD}@db lost")

    with pytest.raises(BackupError, match="backup to .* failed: RuntimeError") as info:
        await make(tmp_path, backend=Broken())
    assert PASSWORD not in str(info.value)
    assert os.listdir(tmp_path / "backups") == []


async def test_a_backend_without_dump_is_a_backup_error_caused_by_not_implemented(tmp_path):
    class NoDump(FakeBackend):
        async def dump(self, out):
            raise NotImplementedError("the fake backend cannot back up yet")

    with pytest.raises(BackupError, match="cannot back up yet") as info:
        await make(tmp_path, backend=NoDump())
    assert isinstance(info.value.__cause__, NotImplementedError)


async def test_round_trip_hands_the_backend_the_same_bytes(tmp_path):
    _, where = await make(tmp_path)
    target = FakeBackend()
    verified = await backup.verify_backup(target, config(tmp_path), where)
    await backup.restore_verified(target, config(tmp_path), verified)
    assert target.restored == PAYLOAD


async def test_encrypted_round_trip_hands_the_backend_the_same_bytes(tmp_path):
    _, where = await make(tmp_path, encryption_key="my-passphrase")
    assert PAYLOAD[:64] not in open(where, "rb").read()
    target, cfg = FakeBackend(), config(tmp_path, encryption_key="my-passphrase")
    await backup.restore_verified(target, cfg, await backup.verify_backup(target, cfg, where))
    assert target.restored == PAYLOAD


class ToolLikeBackend(FakeBackend):
    """Writes its dump the way pg_dump -Fc writes a file: through the descriptor, then seeks
    back to fill in its header; records whether ``out`` offered a descriptor at all."""

    offered: bool | None = None

    async def dump(self, out: Any) -> dict[str, Any]:
        try:
            fd = out.fileno()
        except (OSError, io.UnsupportedOperation):
            self.offered = False
            return await super().dump(out)
        self.offered = True
        os.write(fd, b"HEADER??" + self.data)
        os.lseek(fd, 0, os.SEEK_SET)
        os.write(fd, b"HEADER!!")
        os.lseek(fd, 0, os.SEEK_END)
        return {"format": "tool-like"}


async def test_a_plain_backup_lets_the_backend_write_the_file_itself_and_hashes_what_it_holds(tmp_path):
    tool = ToolLikeBackend()
    manifest, where = await make(tmp_path, backend=tool)
    assert tool.offered
    assert open(where, "rb").read() == b"HEADER!!" + PAYLOAD
    assert (manifest.size, manifest.sha256) == (len(PAYLOAD) + 8, hashlib.sha256(b"HEADER!!" + PAYLOAD).hexdigest())
    target = FakeBackend()
    await backup.restore_verified(target, config(tmp_path), await backup.verify_backup(target, config(tmp_path), where))
    assert target.restored == b"HEADER!!" + PAYLOAD


async def test_an_encrypted_backup_never_offers_the_backend_a_file_descriptor(tmp_path):
    tool = ToolLikeBackend()
    _, where = await make(tmp_path, backend=tool, encryption_key="my-passphrase")
    assert tool.offered is False
    assert PAYLOAD[:64] not in open(where, "rb").read()


async def test_a_name_in_the_store_is_found_for_restore(tmp_path):
    await make(tmp_path, "backup_20240101.sql")
    verified = await backup.verify_backup(FakeBackend(), config(tmp_path), "backup_20240101.sql")
    assert verified.where == str(tmp_path / "backups" / "backup_20240101.sql")


async def test_wrong_key_is_refused_before_the_backend_sees_anything(tmp_path):
    _, where = await make(tmp_path, encryption_key="my-passphrase")
    with pytest.raises(BackupError, match="encryption key is wrong.*nothing was restored") as info:
        await backup.verify_backup(FakeBackend(), config(tmp_path, encryption_key="other-passphrase"), where)
    assert "other-passphrase" not in str(info.value)


async def test_missing_key_for_an_encrypted_backup_says_which_variable_to_set(tmp_path):
    _, where = await make(tmp_path, encryption_key="my-passphrase")
    with pytest.raises(BackupError, match="is encrypted: set MIGRATION_ENCRYPTION_KEY"):
        await backup.verify_backup(FakeBackend(), config(tmp_path), where)


@pytest.mark.parametrize("key", [None, "my-passphrase"])
async def test_a_flipped_byte_fails_the_sha256_check(tmp_path, key):
    _, where = await make(tmp_path, encryption_key=key)
    with open(where, "r+b") as f:
        f.seek(len(PAYLOAD) // 2)
        byte = f.read(1)
        f.seek(-1, os.SEEK_CUR)
        f.write(bytes([byte[0] ^ 0x40]))
    with pytest.raises(BackupError, match="does not match its manifest"):
        await backup.verify_backup(FakeBackend(), config(tmp_path, encryption_key=key), where)


async def test_a_truncated_archive_fails_the_check(tmp_path):
    _, where = await make(tmp_path)
    os.truncate(where, 1000)
    with pytest.raises(BackupError, match="does not match its manifest"):
        await backup.verify_backup(FakeBackend(), config(tmp_path), where)


async def test_an_archive_without_manifest_is_refused(tmp_path):
    _, where = await make(tmp_path)
    os.remove(where + ".manifest.json")
    with pytest.raises(BackupError, match="has no manifest"):
        await backup.verify_backup(FakeBackend(), config(tmp_path), where)


async def test_a_missing_backup_is_named(tmp_path):
    with pytest.raises(BackupError, match="nope.bak not found"):
        await backup.verify_backup(FakeBackend(), config(tmp_path), "nope.bak")


async def test_a_backup_of_another_backend_is_refused(tmp_path):
    _, where = await make(tmp_path)

    class Other(FakeBackend):
        PLUGIN_NAME = "other"

    with pytest.raises(BackupError, match="is a fake backup; this database uses the other backend"):
        await backup.verify_backup(Other(), config(tmp_path), where)


async def test_an_unknown_store_is_a_config_error_listing_the_installed_ones(tmp_path):
    with pytest.raises(ConfigError, match="backup_store 's3' is not an installed backup store.*local"):
        await make(tmp_path, backup_store="s3")


class MemoryStore(BackupStore):
    """A third party's store, kept in a dict: proves the registration hook."""

    PLUGIN_NAME = "memory"
    files: dict[str, bytes] = {}

    @classmethod
    def from_config(cls, config):
        return cls("test-bucket")

    def open_write(self, name):
        store = self

        class Upload(io.BytesIO):
            def close(self):
                store.files[name] = self.getvalue()
                super().close()

        return Upload()

    def open_read(self, name):
        if name not in self.files:
            raise FileNotFoundError(name)
        return io.BytesIO(self.files[name])

    def names(self) -> Iterator[str]:
        yield from sorted(self.files)

    def delete(self, name):
        self.files.pop(name, None)


class MemoryStorePlugin:
    @hookimpl
    def ncm_register_backup_stores(self):
        return [MemoryStore]


async def test_a_third_party_store_receives_and_serves_backups(tmp_path, register_plugin):
    register_plugin(MemoryStorePlugin())
    MemoryStore.files = {}
    manifest, where = await make(tmp_path, backup_store="memory")
    assert where == f"memory:test-bucket/{manifest.archive}"
    assert set(MemoryStore.files) == {manifest.archive, manifest.archive + ".manifest.json"}
    assert not (tmp_path / "backups").exists()
    target, cfg = FakeBackend(), config(tmp_path, backup_store="memory")
    assert [m.archive for m, _ in backup.list_backups(cfg)] == [manifest.archive]
    await backup.restore_verified(target, cfg, await backup.verify_backup(target, cfg, manifest.archive))
    assert target.restored == PAYLOAD


def test_a_file_being_written_is_not_in_the_store_until_its_block_ends(tmp_path):
    store = backup.LocalDirectoryStore(str(tmp_path / "backups"))
    with store.open_write("b.ncmbak") as f:
        f.write(b"half")
        assert list(store.names()) == [] and not store.exists("b.ncmbak")
    assert list(store.names()) == ["b.ncmbak"]
    with pytest.raises(FileExistsError):
        store.open_write("b.ncmbak")


def test_a_write_that_fails_leaves_nothing(tmp_path):
    store = backup.LocalDirectoryStore(str(tmp_path / "backups"))
    with pytest.raises(RuntimeError), store.open_write("b.ncmbak") as f:
        f.write(b"half")
        raise RuntimeError("dump failed")
    assert os.listdir(tmp_path / "backups") == []


def test_the_next_write_removes_an_abandoned_partial_file_but_not_one_being_written(tmp_path):
    store = backup.LocalDirectoryStore(str(tmp_path / "backups"))
    (tmp_path / "backups").mkdir()
    abandoned = tmp_path / "backups" / f"{backup.PARTIAL_PREFIX}old.ncmbak.x1y2"
    abandoned.write_bytes(b"left by a killed backup")
    with store.open_write("busy.ncmbak") as busy:
        with store.open_write("next.ncmbak") as f:
            f.write(b"x")
        assert not abandoned.exists()
        assert busy.scratch.exists(), "a partial file whose writer is alive is left alone"
    assert sorted(store.names()) == ["busy.ncmbak", "next.ncmbak"]
