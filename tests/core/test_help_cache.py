"""``ncm --help`` from the help cache: the same page, without importing the CLI, and
rendered afresh when anything it came from changed."""

import os
import subprocess
import sys

import pytest

from ncm_core import help_cache, launcher


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setattr(help_cache, "PATH", tmp_path / "__pycache__" / "ncm-help")
    monkeypatch.setattr(sys, "dont_write_bytecode", False)
    return help_cache


@pytest.mark.parametrize("tokens, asks", [
    (["--help"], True), (["-h"], True), (["run", "--help"], True), ([], False),
    (["run"], False), (["--config", "x.toml", "--help"], False), (["--help", "run"], False),
])
def test_only_help_itself_is_served_from_the_cache(tokens, asks):
    assert help_cache.asks_for_help(tokens) is asks


def test_the_second_help_is_the_first_page_without_the_cli(cache, capsys, monkeypatch):
    assert launcher.help_page(["--help"]) == 0
    first = capsys.readouterr().out
    assert "Usage: ncm" in first
    import ncm_core.cli

    monkeypatch.setattr(ncm_core.cli, "run_cli", lambda tokens: pytest.fail("rendered again"))
    assert launcher.help_page(["--help"]) == 0
    assert capsys.readouterr().out == first


def test_each_command_has_a_page_of_its_own(cache, capsys):
    launcher.help_page(["run", "--help"])
    launcher.help_page(["status", "--help"])
    pages = capsys.readouterr().out
    assert cache.lookup(cache.key(["run", "--help"])) in pages
    assert cache.lookup(cache.key(["run", "--help"])) != cache.lookup(cache.key(["status", "--help"]))


def test_a_page_whose_rendering_warned_is_not_kept(cache, monkeypatch, capsys):
    import ncm_core.cli

    def warning(tokens):
        print("warning: plugin broken failed to load", file=sys.stderr)
        print("Usage: ncm")
        return 0

    monkeypatch.setattr(ncm_core.cli, "run_cli", warning)
    launcher.help_page(["--help"])
    assert cache.lookup(cache.key(["--help"])) is None


def test_a_changed_module_renders_the_page_afresh(cache, tmp_path, monkeypatch):
    package = tmp_path / "package"
    (package / "cli").mkdir(parents=True)
    (package / "cli" / "running.py").write_text("HELP = 'one'\n")
    monkeypatch.setattr(cache, "PACKAGE", package)
    before = cache.key(["--help"])
    (package / "cli" / "running.py").write_text("HELP = 'other'\n")
    assert cache.key(["--help"]) != before


def test_the_environment_rich_reads_is_part_of_the_key(cache, monkeypatch):
    before = cache.key(["--help"])
    monkeypatch.setenv("NO_COLOR", "1")
    assert cache.key(["--help"]) != before


def test_nothing_is_written_under_dont_write_bytecode(cache, monkeypatch, capsys):
    monkeypatch.setattr(sys, "dont_write_bytecode", True)
    launcher.help_page(["--help"])
    assert not cache.PATH.exists()


def test_at_most_so_many_pages_are_kept_the_newest(cache):
    for i in range(cache.KEPT + 4):
        cache.keep(f"key {i}", f"page {i}")
    assert cache.lookup("key 0") is None and cache.lookup(f"key {cache.KEPT + 3}") == f"page {cache.KEPT + 3}"
    assert len(cache._pages()) == cache.KEPT


def test_an_unwritable_cache_directory_is_no_error(cache, tmp_path, monkeypatch):
    blocked = tmp_path / "file"
    blocked.write_text("")
    monkeypatch.setattr(cache, "PATH", blocked / "ncm-help")
    cache.keep("key", "page")
    assert cache.lookup("key") is None


def test_the_ncm_executable_prints_the_same_help_twice_the_second_without_cyclopts(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    ncm = [sys.executable, "-X", "importtime", "-c", "from ncm_core.launcher import main; main()", "--help"]
    first = subprocess.run(ncm, env=env, capture_output=True, text=True, check=True)
    second = subprocess.run(ncm, env=env, capture_output=True, text=True, check=True)
    assert "Usage: ncm" in first.stdout and second.stdout == first.stdout
    assert " cyclopts\n" not in second.stderr and " pluggy\n" not in second.stderr
