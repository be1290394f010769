"""One command over many targets in one process: bounded concurrency (an asyncio semaphore:
at most ``parallel`` targets connected at once), the canary targets first, no new target
started once the failure budget is spent. Each target is the command's normal work on a
MigrationRunner of its own configuration, so locking, auditing and masking are a single
run's."""

from __future__ import annotations

import asyncio
import signal
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from ncm_core.config import MigrationConfig
from ncm_core.errors import DatabaseRefused, DatabaseUnavailable, LockTimeout, NcmError, Stopped
from ncm_core.fleet.journal import DONE, Journal
from ncm_core.fleet.targets import Target

FAILED = "failed"
UNREACHABLE = "unreachable"
LOCKED = "locked"
NOT_STARTED = "not started"
BAD = frozenset({FAILED, UNREACHABLE, LOCKED})
"""The outcomes that spend the failure budget."""


@dataclass
class Outcome:
    """What one target's work came to: a status word, one line of detail, the work's data."""

    target: Target
    status: str
    detail: str = ""
    seconds: float = 0.0
    data: dict[str, Any] = field(default_factory=dict)


Work = Callable[[Target, Any], Awaitable[tuple[str, str, dict[str, Any]]]]
"""A command's work on one target with its runner: (status, detail, data)."""


@dataclass
class FanOut:
    """A fan-out over ``targets``: ``configure`` makes a target's configuration, ``work``
    does the command on its runner, ``report`` hears of each target as it starts and ends."""

    targets: list[Target]
    configure: Callable[[Target], MigrationConfig]
    work: Work
    parallel: int = 4
    canary: list[Target] = field(default_factory=list)
    budget: int | None = None
    journal: Journal | None = None
    report: Callable[[str, Outcome], None] = lambda event, outcome: None
    outcomes: list[Outcome] = field(default_factory=list)
    running: dict[str, Any] = field(default_factory=dict)
    stopping: int | None = None
    """The signal that asked the fan-out to stop."""
    canary_failed: bool = False

    @property
    def failures(self) -> int:
        return sum(o.status in BAD for o in self.outcomes)

    def budget_spent(self) -> bool:
        return self.budget is not None and self.failures >= self.budget

    async def run(self) -> list[Outcome]:
        """Every target's outcome, in the targets' order (not started ones included)."""
        semaphore = asyncio.Semaphore(self.parallel)
        canaries = {t.name for t in self.canary}
        with _StopOnSignal(self):
            await asyncio.gather(*(self._one(t, semaphore) for t in self.targets if t.name in canaries))
            if any(o.status in BAD for o in self.outcomes):
                self.canary_failed = True
            await asyncio.gather(*(self._one(t, semaphore) for t in self.targets if t.name not in canaries))
        order = {t.name: i for i, t in enumerate(self.targets)}
        return sorted(self.outcomes, key=lambda o: order[o.target.name])

    async def _one(self, target: Target, semaphore: asyncio.Semaphore) -> None:
        async with semaphore:
            if self.stopping is not None or self.canary_failed or self.budget_spent():
                self.outcomes.append(Outcome(target, NOT_STARTED))
                return
            if self.journal is not None and target.name in self.journal.done():
                outcome = Outcome(target, DONE, "already done in this run")
                self.outcomes.append(outcome)
                self.report("skipped", outcome)
                return
            self.report("started", Outcome(target, "running"))
            if self.journal is not None:
                self.journal.record(target.name, "started")
            outcome = await self._attempt(target)
            self.outcomes.append(outcome)
            if self.journal is not None:
                self.journal.record(target.name, outcome.status, detail=outcome.detail,
                                    seconds=round(outcome.seconds, 3), **outcome.data)
            self.report("finished", outcome)

    async def _attempt(self, target: Target) -> Outcome:
        """The work on the target, every error one masked line of the outcome."""
        from ncm_core.runner import MigrationRunner

        started = time.perf_counter()
        config: MigrationConfig | None = None
        runner = None
        try:
            config = self.configure(target)
            runner = MigrationRunner(config)
            self.running[target.name] = runner
            status, detail, data = await self.work(target, runner)
        except NcmError as exc:
            status, detail, data = _status_of(exc), str(exc), {}
        except Exception as exc:  # one target's bug must not stop the others: it is that target's failure
            status, detail, data = FAILED, f"internal error: {type(exc).__name__}: {exc}", {}
        finally:
            self.running.pop(target.name, None)
            if runner is not None:
                await runner.close()
        masked = config.mask(detail) if config is not None else detail
        return Outcome(target, status, (masked.splitlines() or [""])[0], time.perf_counter() - started, data)


def _status_of(exc: NcmError) -> str:
    if isinstance(exc, DatabaseUnavailable) and not isinstance(exc, DatabaseRefused):
        return UNREACHABLE
    return LOCKED if isinstance(exc, LockTimeout) else FAILED


class _StopOnSignal:
    """SIGINT or SIGTERM: no new target starts, and each running one stops once its current
    step is recorded (as a single run's first signal does); the run then ends with the
    signal's exit code."""

    SIGNALS = (signal.SIGINT, signal.SIGTERM)

    def __init__(self, fan: FanOut) -> None:
        self.fan = fan

    def __enter__(self) -> _StopOnSignal:
        self.loop = asyncio.get_running_loop()
        for signum in self.SIGNALS:
            self.loop.add_signal_handler(signum, self.on_signal, signum)
        return self

    def on_signal(self, signum: int) -> None:
        self.fan.stopping = signum
        for runner in list(self.fan.running.values()):
            if runner.plan is not None and runner.stop_requested is None:
                runner.request_stop(signum)

    def __exit__(self, *exc: object) -> None:
        for signum in self.SIGNALS:
            self.loop.remove_signal_handler(signum)
        if self.fan.stopping is not None and exc[0] is None:
            done = sum(o.status == DONE for o in self.fan.outcomes)
            left = sum(o.status == NOT_STARTED for o in self.fan.outcomes)
            raise Stopped(self.fan.stopping, f"stopped by {signal.Signals(self.fan.stopping).name}: {done} target(s) "
                                             f"done, {self.fan.failures} failed, {left} not started")
