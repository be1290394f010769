"""Kill the real ``ncm`` command part way through, as kill -9 does, alone or with its whole
process group, and wait until everything it started has ended.

``ncm`` runs in a session of its own (``start_new_session=True``), so the tools it starts
(pg_restore, psql, mariadb) are found by their session id, and the check that follows a
kill only starts once the last of them has exited: what the database holds then is final.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

NCM = str(Path(sys.executable).with_name("ncm"))


@dataclass(frozen=True)
class Kill:
    """One killed command: how long after its start, and which processes were running then."""

    after: float
    running: tuple[str, ...]

    @property
    def finished_first(self) -> bool:
        """The command had already ended when the kill came (the trial tested nothing)."""
        return not self.running


def session(sid: int) -> list[str]:
    """The names of the processes of session ``sid``, zombies left out (they hold nothing)."""
    names = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        name, _, rest = stat[stat.index("(") + 1:].rpartition(")")
        fields = rest.split()
        if int(fields[3]) == sid and fields[0] != "Z":
            names.append(name)
    return names


def start(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen([NCM, *args], env=env, cwd=cwd, start_new_session=True,
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def kill_when(args: list[str], env: dict[str, str], cwd: Path, ready: Callable[[int], bool], whole_group: bool,
              timeout: float = 60) -> Kill:
    """Start ``ncm args``, SIGKILL it (or its process group) as soon as ``ready(pid)`` is
    true (``pid`` is ncm's, and its session's id), and return once every process of its
    session has exited."""
    started = time.monotonic()
    proc = start(args, env, cwd)
    while not ready(proc.pid) and proc.poll() is None:
        assert time.monotonic() - started < timeout, f"ncm {' '.join(args)}: not ready after {timeout} s"
        time.sleep(0.005)
    running = tuple(session(proc.pid)) if proc.poll() is None else ()
    try:
        os.killpg(proc.pid, signal.SIGKILL) if whole_group else proc.kill()
    except ProcessLookupError:
        pass  # it ended just before
    proc.wait()
    wait_for_session_end(proc.pid)
    return Kill(time.monotonic() - started, running)


class Moment:
    """A moment of a command: ``delay`` seconds after the process ``tool`` (None: ncm itself)
    first appears in its session; called as ``ready(pid)`` for :func:`kill_when`."""

    def __init__(self, delay: float, tool: str | None = None) -> None:
        self.delay, self.tool, self.seen = delay, tool, None if tool else time.monotonic()

    def __call__(self, pid: int) -> bool:
        if self.seen is None and self.tool in session(pid):
            self.seen = time.monotonic()
        return self.seen is not None and time.monotonic() - self.seen >= self.delay


def wait_for_session_end(sid: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while session(sid):
        if time.monotonic() > deadline:
            raise AssertionError(f"processes of the killed ncm still running after {timeout} s: {session(sid)}")
        time.sleep(0.02)


def run(args: list[str], env: dict[str, str], cwd: Path, check: int = 0) -> subprocess.CompletedProcess[str]:
    """Run ``ncm args`` to the end; its exit code must be ``check``."""
    done = subprocess.run([NCM, *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=120)
    assert done.returncode == check, f"ncm {' '.join(args)} -> {done.returncode}: {done.stderr}"
    return done


def timed(args: list[str], env: dict[str, str], cwd: Path, tool: str | None = None) -> float:
    """Run ``ncm args`` to the end (it must succeed); return how long ``tool`` ran in its
    session (None: how long ncm ran)."""
    proc = subprocess.Popen([NCM, *args], env=env, cwd=cwd, start_new_session=True, stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    moment, gone = Moment(0, tool), None
    while proc.poll() is None:
        if moment(proc.pid) and gone is None and tool is not None and tool not in session(proc.pid):
            gone = time.monotonic()
        time.sleep(0.005)
    assert proc.returncode == 0, f"ncm {' '.join(args)} -> {proc.returncode}: {proc.stderr.read()}"
    assert moment.seen is not None, f"{tool} never ran"
    return (gone or time.monotonic()) - moment.seen


def environment(database_url: str, migrations_dir: Path, **more: str) -> dict[str, str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("MIGRATION_")}
    return {**environ, "MIGRATION_DATABASE_URL": database_url, "MIGRATION_MIGRATION_DIRECTORY": str(migrations_dir),
            **more}


@dataclass
class Trials:
    """What :func:`kill_restores` saw: the two allowed states and each kill's outcome."""

    before: object
    backup: object
    outcomes: list[tuple[Kill, str]]

    def summary(self) -> str:
        return ", ".join(f"{kill.after:.2f}s {'+'.join(kill.running) or 'done'} -> {seen}"
                         for kill, seen in self.outcomes)


async def kill_restores(archive: str, env: dict[str, str], cwd: Path, *, whole_group: bool,
                        fractions: tuple[float, ...], make_before: Callable[[], Awaitable[None]],
                        state: Callable[[], Awaitable[object]], tool: str | None = None,
                        recover: Callable[[], object] | None = None) -> Trials:
    """Restore ``archive`` once to the end (which gives the backup's state and how long a
    restore takes from the moment ``tool`` starts, or ncm when None), then once per fraction
    of that time, killed then; after each kill (and ``recover``, the command that mends what a
    killed restore left, where the backend needs one) the database must be exactly as before
    the restore or exactly the backup."""
    await make_before()
    before = await state()
    full = timed(["restore", archive, "--yes"], env, cwd, tool)
    backup = await state()
    assert backup != before, "the trials need a database that differs from the backup"
    trials = Trials(before, backup, [])
    for fraction in fractions:
        await make_before()
        assert await state() == before
        kill = kill_when(["restore", archive, "--yes"], env, cwd, Moment(fraction * full, tool), whole_group)
        if recover is not None:
            recover()
        now = await state()
        seen = "before" if now == before else "backup" if now == backup else f"MIXED {now!r}"
        trials.outcomes.append((kill, seen))
        assert not seen.startswith("MIXED"), f"killed after {kill.after:.2f} s of {full:.2f} s: {trials.summary()}"
    return trials
