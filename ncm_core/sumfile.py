"""``migrations/ncm.sum``: the migration directory's integrity file, in the spirit of Atlas's
``atlas.sum``. Its first line is a hash of the whole; each further line names one migration
file and its hash::

    h1:0uRqbZ3i5Ed4FQtLMVaQmHgNnzNsOqKlWnd6yL5g5tU=
    001_add_users_table.py h1:n5dLTc1aJzc8bNYfRa+Ij2y2mAQ+lTaqU6xn6s9Cx3c=
    002_seed_users.py h1:2Xk0WJd4uMoFbT1Uqt4h2x+w6Tn5bq2rS1nIzv9mQ8E=

The first line is what makes the file worth keeping in version control: two branches that
each add a migration both rewrite it, so git cannot merge them silently and the merge is
looked at before deploy. The file hashes are those of the history's checksums (line endings
and a BOM normalised), so a checkout with CRLF endings is not drift."""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from pathlib import Path

from ncm_core.errors import UsageError
from ncm_core.migration import checksum, migration_files, natural_key

NAME = "ncm.sum"
PREFIX = "h1:"


def h1(digest_hex: str) -> str:
    """Atlas's spelling of a sha256: ``h1:`` and the digest in base64."""
    return PREFIX + base64.b64encode(bytes.fromhex(digest_hex)).decode("ascii")


@dataclass(frozen=True)
class SumFile:
    """The file hashes of a migration directory, in version order, and the hash of them all."""

    files: dict[str, str]

    @property
    def total(self) -> str:
        return h1(hashlib.sha256("".join(f"{n} {h}\n" for n, h in self.files.items()).encode()).hexdigest())

    def text(self) -> str:
        return f"{self.total}\n" + "".join(f"{name} {digest}\n" for name, digest in self.files.items())


class SumFileError(UsageError):
    """ncm.sum cannot be read: a merge conflict left in it, or an edit by hand."""


def path_of(directory: Path) -> Path:
    return Path(directory) / NAME


def compute(directory: Path) -> SumFile:
    """The sum the migration files of ``directory`` have now."""
    return SumFile({p.name: h1(checksum(p)) for p in migration_files(Path(directory))})


def write(directory: Path) -> Path:
    """Rewrite ncm.sum from the files; return its path."""
    path = path_of(directory)
    path.write_text(compute(directory).text(), encoding="utf-8")
    return path


def add(directory: Path, path: Path) -> Path:
    """ncm.sum with the line of the new migration ``path`` added and the others as they were
    written: a new migration does not vouch for edits made to the others since (``ncm hash``
    does, after review). Without an ncm.sum, one is written for the whole directory."""
    written = read(directory)
    if written is None:
        return write(directory)
    files = {**written.files, path.name: h1(checksum(path))}
    target = path_of(directory)
    target.write_text(SumFile(dict(sorted(files.items(), key=lambda f: natural_key(Path(f[0]).stem)))).text(),
                      encoding="utf-8")
    return target


def read(directory: Path) -> SumFile | None:
    """The sum as written, None when the project has none; SumFileError naming the line when it
    cannot be parsed or its first line does not match the rest."""
    path = path_of(directory)
    if not path.is_file():
        return None
    lines = path.read_text(encoding="utf-8").splitlines()
    if not lines or not lines[0].startswith(PREFIX) or " " in lines[0]:
        raise SumFileError(f"{path}: line 1 is not the `h1:` hash of the whole")
    files = {}
    for number, line in enumerate(lines[1:], start=2):
        name, _, digest = line.rpartition(" ")
        if not name or not digest.startswith(PREFIX):
            raise SumFileError(f"{path}: line {number} is not `<file> h1:<hash>`: {line[:60]!r}")
        files[name] = digest
    found = SumFile(files)
    if found.total != lines[0]:
        raise SumFileError(f"{path}: line 1 does not match the lines below it (edited by hand?)")
    return found


def drift(directory: Path) -> list[str]:
    """What changed in the directory since ncm.sum was written, one sentence per file; [] when
    nothing did or there is no ncm.sum. SumFileError when ncm.sum cannot be read."""
    written = read(directory)
    if written is None:
        return []
    now = compute(directory)
    found = []
    for name, digest in now.files.items():
        if name not in written.files:
            found.append(f"{name}: added without updating {NAME}")
        elif written.files[name] != digest:
            found.append(f"{name}: changed since {NAME} was written")
    found.extend(f"{name}: listed in {NAME} but its file is gone" for name in written.files if name not in now.files)
    return found
