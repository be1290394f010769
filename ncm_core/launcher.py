"""The ``ncm`` executable: help from :mod:`ncm_core.help_cache` when it has the page, else
the CLI (:mod:`ncm_core.cli`), whose help pages it then keeps."""

from __future__ import annotations

import io
import sys


class _Copying(io.TextIOBase):
    """A stream that writes through to ``stream`` and keeps a copy; rich sees the real
    stream's terminal, encoding and width."""

    def __init__(self, stream: io.TextIOBase) -> None:
        self.stream, self.copy = stream, io.StringIO()

    def write(self, text: str) -> int:
        self.copy.write(text)
        return self.stream.write(text)

    def flush(self) -> None:
        self.stream.flush()

    def isatty(self) -> bool:
        return self.stream.isatty()

    def fileno(self) -> int:
        return self.stream.fileno()

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return self.stream.encoding


def main() -> None:
    from ncm_core import help_cache

    tokens = sys.argv[1:]
    if help_cache.asks_for_help(tokens):
        sys.exit(help_page(tokens))
    from ncm_core.cli import main as cli

    cli()


def help_page(tokens: list[str]) -> int:
    from ncm_core import help_cache

    try:
        page_key = help_cache.key(tokens)
    except Exception:  # an unreadable install: render as usual, keep nothing
        page_key = None
    page = help_cache.lookup(page_key) if page_key else None
    if page is not None:
        sys.stdout.write(page)
        return 0
    from ncm_core.cli import run_cli

    stdout, stderr = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = _Copying(stdout), _Copying(stderr)
    try:
        code = run_cli(tokens)
    finally:
        copied_out, copied_err = sys.stdout, sys.stderr
        sys.stdout, sys.stderr = stdout, stderr
    if code == 0 and page_key and not copied_err.copy.getvalue():
        help_cache.keep(page_key, copied_out.copy.getvalue())
    return code
