"""A database's own client tools (pg_dump, mariadb-dump, psql, ...) run as child processes, streamed.

Backups go through the tools every DBA already trusts, so the archive is what those tools
write and read. A dump whose destination is a file (a plain backup in the local store) is
written by the tool straight into it; otherwise data moves between the tools and ncm's
backup streams in worker threads, through pipes widened to :data:`CHUNK` bytes (one read
takes what the tool wrote, up to a chunk, with no event-loop hop per 64 KiB), so memory
stays flat however large the database is. Passwords reach the children through their environment only, never their command line,
and the tools' error output is masked before anyone sees it.
"""

from __future__ import annotations

import asyncio
import fcntl
import io
import re
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from pathlib import Path
from typing import IO, BinaryIO

from ncm_core.errors import BackupError

CHUNK = 1 << 20


def find_tool(names: Sequence[str], package: str) -> str:
    """The path of the first of ``names`` on PATH; one line naming ``package`` when none is."""
    for name in names:
        path = shutil.which(name)
        if path:
            return path
    raise BackupError(f"{' / '.join(names)} not found on PATH: install {package}")


async def tool_version(path: str, at_least: int | None = None, server: str = "", package: str = "") -> str:
    """The first line ``<tool> --version`` prints, e.g. ``pg_dump (PostgreSQL) 15.6``; with
    ``at_least``, one line naming ``package`` when the tool's major version is older (pg_dump
    refuses to dump a newer server)."""
    proc = await asyncio.create_subprocess_exec(path, "--version", stdout=subprocess.PIPE,
                                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    out, _ = await proc.communicate()
    version = out.decode(errors="replace").strip().splitlines()[0] if out.strip() else Path(path).name
    major = re.search(r"\b(\d+)(?:\.\d+)?", version.split(")", 1)[-1])
    if at_least is not None and (major is None or int(major.group(1)) < at_least):
        raise BackupError(f"{version} is older than the server ({server} {at_least}): install {package}")
    return version


def first_error(text: str) -> str:
    """The line of a tool's error output that says what went wrong: the first that mentions
    an error, else the first non-empty one."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    for line in lines:
        if "error" in line.lower() or "fatal" in line.lower():
            return line
    return lines[0] if lines else ""


def describe(exc: BaseException) -> str:
    """An error in one line: a BackupError's own words, else its type and message."""
    if isinstance(exc, BackupError) or not str(exc):
        return str(exc) or type(exc).__name__
    return f"{type(exc).__name__}: {exc}".splitlines()[0]


class _Child:
    """One tool in a pipeline, its stderr spooled to an anonymous temporary file (a pipe
    nobody reads could fill up and stall the tool)."""

    def __init__(self, cmd: Sequence[str], env: dict[str, str], stack: ExitStack,
                 stdin: int | IO[bytes], stdout: int | IO[bytes]) -> None:
        self.name = Path(cmd[0]).name
        self.stderr = stack.enter_context(tempfile.TemporaryFile())
        self.proc = subprocess.Popen(list(cmd), stdin=stdin, stdout=stdout, stderr=self.stderr, env=env)
        self.killed = False
        for pipe in (self.proc.stdin, self.proc.stdout):
            if pipe is not None:
                _widen(pipe.fileno())

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.killed = True
            self.proc.kill()

    def error(self) -> str | None:
        """What went wrong, or None when the tool succeeded (or was stopped by us)."""
        if self.proc.returncode == 0 or self.killed:
            return None
        self.stderr.seek(0)
        line = first_error(self.stderr.read().decode(errors="replace"))
        return f"{self.name} failed: {line or f'exit status {self.proc.returncode}'}"


def _widen(fd: int) -> None:
    """Give a pipe a :data:`CHUNK`-sized buffer (Linux), so a tool and ncm trade a chunk per
    wake-up instead of 64 KiB; the default stays where the system refuses (its pipe-max-size)."""
    if hasattr(fcntl, "F_SETPIPE_SZ"):
        try:
            fcntl.fcntl(fd, fcntl.F_SETPIPE_SZ, CHUNK)
        except OSError:
            pass


def file_descriptor(out: object) -> int | None:
    """The descriptor a tool may write into directly, when ``out`` offers one (``fileno()``);
    None for a stream that must see every byte itself (one that encrypts or hashes)."""
    try:
        return out.fileno()  # type: ignore[attr-defined]
    except (AttributeError, OSError, io.UnsupportedOperation):
        return None


def _close(stream: IO[bytes] | None) -> None:
    if stream is not None:
        try:
            stream.close()
        except BrokenPipeError:
            pass


async def _in_threads(children: list[_Child], *jobs: Callable[[], None]) -> None:
    """Run the copy jobs in threads and wait for every child; any failure kills them all
    (which also unblocks the other jobs' reads and writes)."""
    try:
        await asyncio.gather(*(asyncio.to_thread(job) for job in jobs))
    except BaseException:
        for child in children:
            child.kill()
        raise
    finally:
        for child in children:
            await asyncio.to_thread(child.proc.wait)


def _raise_first_error(children: list[_Child], mask: Callable[[str], str]) -> None:
    for child in children:
        if (message := child.error()) is not None:
            raise BackupError(mask(message))


async def dump_to(cmd: Sequence[str], env: dict[str, str], out: BinaryIO, mask: Callable[[str], str]) -> None:
    """Run ``cmd`` with its stdout going into ``out``: straight into its file when ``out`` has
    one (:func:`file_descriptor`; the tool may then seek in it, as ``pg_dump -Fc`` does to
    record its data offsets), else copied through a pipe, chunk by chunk."""
    with ExitStack() as stack:
        fd = file_descriptor(out)
        if fd is not None:
            child = _Child(cmd, env, stack, subprocess.DEVNULL, fd)
            await _in_threads([child], child.proc.wait)
            _raise_first_error([child], mask)
            return
        child = _Child(cmd, env, stack, subprocess.DEVNULL, subprocess.PIPE)
        children = [child]

        def copy() -> None:
            try:
                while chunk := child.proc.stdout.read1(CHUNK):
                    out.write(chunk)
            except BaseException:
                child.kill()
                raise
            finally:
                child.proc.stdout.close()

        await _in_threads(children, copy)
        _raise_first_error(children, mask)


async def load_from(source: BinaryIO, cmds: Sequence[Sequence[str]], env: dict[str, str],
                    mask: Callable[[str], str], prelude: bytes = b"", postlude: bytes = b"",
                    on_postlude: threading.Event | None = None) -> None:
    """Feed ``prelude`` then ``source`` into a pipeline of tools (``pg_restore | psql``), and
    ``postlude`` into the last tool only once the whole of ``source`` has been read, to its
    end, and every earlier tool has exited 0 (``on_postlude`` is set when it has been sent).

    This is how a loader commits only a complete stream: it opens its transaction itself
    (``BEGIN`` in its first command) and ``postlude`` is the ``COMMIT``. Whatever stops ncm
    first - an error, Ctrl-C, kill -9 of ncm alone or of its whole process group - the loader
    never receives the COMMIT: its input ends, or it dies, and either way its session ends
    and the server rolls the transaction back. The tool never decides on its own that the
    input was complete, so no ``PR_SET_PDEATHSIG`` or temporary copy of the archive is
    needed. ncm relays between the stages, instead of joining them with a bare pipe, so
    that a failing stage's successors are killed before they see the end of their input.
    """
    with ExitStack() as stack:
        children: list[_Child] = []
        try:
            for i, cmd in enumerate(cmds):
                last = i == len(cmds) - 1
                children.append(_Child(cmd, env, stack, subprocess.PIPE,
                                       subprocess.DEVNULL if last else subprocess.PIPE))
        except OSError:
            for child in children:
                child.kill()
                child.proc.wait()
            raise
        fed = _Fed()

        def send_postlude(stdin: IO[bytes]) -> None:
            if postlude and fed.whole.is_set():
                stdin.write(postlude)
                if on_postlude is not None:
                    on_postlude.set()

        def feed() -> None:
            stdin = children[0].proc.stdin
            try:
                if prelude:
                    stdin.write(prelude)
                while chunk := source.read(CHUNK):
                    stdin.write(chunk)
                fed.whole.set()
                if len(children) == 1:
                    send_postlude(stdin)
            except BrokenPipeError:
                pass  # the tool stopped reading: its exit status and stderr say why
            finally:
                _close(stdin)
                fed.done.set()

        def relay(i: int) -> Callable[[], None]:
            def run() -> None:
                upstream, downstream = children[i], children[i + 1]
                try:
                    while chunk := upstream.proc.stdout.read1(CHUNK):
                        downstream.proc.stdin.write(chunk)
                    if upstream.proc.wait() == 0 and i + 2 == len(children):
                        fed.done.wait()
                        send_postlude(downstream.proc.stdin)
                except BrokenPipeError:
                    upstream.kill()
                finally:
                    upstream.proc.stdout.close()
                if upstream.proc.wait() != 0 and not upstream.killed:
                    for later in children[i + 1:]:
                        later.kill()
                _close(downstream.proc.stdin)
            return run

        await _in_threads(children, feed, *(relay(i) for i in range(len(children) - 1)))
        _raise_first_error(children, mask)
        if not fed.whole.is_set():
            raise BackupError(f"{children[0].name} stopped reading before the end of the backup")


class _Fed:
    """How far :func:`load_from`'s feed got: ``whole`` once the source's end was read and
    passed on, ``done`` when the feed stopped, either way."""

    def __init__(self) -> None:
        self.whole, self.done = threading.Event(), threading.Event()
