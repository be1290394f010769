"""What static_read found, kept in __pycache__ so a command need not parse every file again:
it must never give a stale answer, and it is written as Python writes bytecode."""

from __future__ import annotations

import sys

import pytest

from ncm_core import static_cache
from ncm_core.migration import load_migrations

PLAIN = '"""Create {name}."""\ntype = "{type}"\ndepends_on = ({deps})\n\n\ndef upgrade():\n    pass\n'


@pytest.fixture
def directory(tmp_path, monkeypatch):
    monkeypatch.setattr(sys, "dont_write_bytecode", False)
    (tmp_path / "001_users.py").write_text(PLAIN.format(name="users", type="schema", deps=""))
    (tmp_path / "002_seed.py").write_text(PLAIN.format(name="seed", type="seed", deps='"001_users",'))
    return tmp_path


def described(directory):
    return [(m.version, m.description, m.type, m.depends_on, m.deferred) for m in load_migrations(directory)]


def cache_file(directory):
    return directory / "__pycache__" / f"ncm-static.{sys.implementation.cache_tag}"


def test_a_second_load_reads_the_cache_and_not_the_syntax_tree(directory, monkeypatch):
    first = described(directory)
    assert cache_file(directory).is_file()
    monkeypatch.setattr("ncm_core.migration._read_static", lambda *_: pytest.fail("parsed again"))
    assert described(directory) == first


def test_an_edited_file_is_read_again(directory):
    described(directory)
    (directory / "002_seed.py").write_text(PLAIN.format(name="seed", type="data", deps=""))
    assert described(directory)[1][1:4] == ("Create seed.", "data", [])


def test_a_file_that_must_be_imported_stays_so(directory):
    (directory / "003_computed.py").write_text('"""Computed."""\ndepends_on = ["001_" + "users"]\n\n\ndef upgrade():\n    pass\n')
    described(directory)
    assert described(directory)[2] == ("003_computed", "Computed.", "schema", ["001_users"], False)


def test_an_enum_value_is_read_from_the_file_each_time(directory):
    (directory / "003_data.py").write_text('"""Data."""\nfrom ncm_core import MigrationType\ntype = MigrationType.DATA\n\n\n'
                                           "def upgrade():\n    pass\n")
    described(directory)
    assert "003_data.py" not in static_cache.StaticCache(directory).entries
    assert described(directory)[2][2] == "data"


def test_a_corrupt_or_foreign_cache_is_ignored(directory):
    first = described(directory)
    cache_file(directory).write_bytes(b"\x00garbage")
    assert described(directory) == first
    assert static_cache.StaticCache(directory).entries, "the cache was written anew"


def test_another_static_reader_does_not_reuse_the_cache(directory, monkeypatch):
    described(directory)
    monkeypatch.setattr(static_cache, "_key", lambda: b"another ncm")
    assert static_cache.StaticCache(directory).entries == {}


def test_nothing_is_written_under_pythondontwritebytecode(directory, monkeypatch):
    monkeypatch.setattr(sys, "dont_write_bytecode", True)
    described(directory)
    assert not cache_file(directory).exists()


def test_a_directory_that_cannot_be_written_is_read_all_the_same(directory):
    (directory / "__pycache__").write_text("a file where the directory would be")
    assert [v for v, *_ in described(directory)] == ["001_users", "002_seed"]
