"""Which migrations ``ncm lint`` reads: the files given, those added since a git ref, the
pending ones (with a database to ask), or all of them."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import TYPE_CHECKING

from ncm_core.errors import UsageError

if TYPE_CHECKING:
    from ncm_core.migration import Migration


def by_paths(order: list[Migration], paths: list[Path]) -> list[Migration]:
    """The migrations at ``paths`` (files, or directories holding them); a path that names
    no migration is an error naming it."""
    chosen: list[Migration] = []
    for path in paths:
        target = path.resolve()
        if not target.exists():
            raise UsageError(f"{path}: no such file or directory")
        found = [m for m in order if m.path.resolve() == target or target in m.path.resolve().parents]
        if not found:
            raise UsageError(f"{path}: not a migration of the migration directory")
        chosen += [m for m in found if m not in chosen]
    return [m for m in order if m in chosen]


def added_since(order: list[Migration], ref: str, directory: Path) -> list[Migration]:
    """The migrations whose file was not in the tree of ``ref`` (committed since, or not
    committed yet): what a pull request adds."""
    top = _git(directory, "rev-parse", "--show-toplevel").strip()
    if _git(directory, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}", check=False) == "":
        raise UsageError(f"--base {ref}: not a commit of the git repository at {top}")
    before = set(_git(Path(top), "ls-tree", "-r", "--name-only", ref).splitlines())
    return [m for m in order if m.path.resolve().relative_to(Path(top).resolve()).as_posix() not in before]


def _git(cwd: Path, *args: str, check: bool = True) -> str:
    try:
        done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True)
    except FileNotFoundError:
        raise UsageError("--base needs git, which is not installed") from None
    if done.returncode != 0:
        if not check:
            return ""
        raise UsageError(f"--base: git {args[0]} failed in {cwd}: {done.stderr.strip().splitlines()[0]}")
    return done.stdout
