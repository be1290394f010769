"""Stand-ins for a dry run of a migration written against a driver's objects (as MongoDB's
are): the call a step makes is recorded as text, and what it gets back is :class:`Nothing`,
so the step goes on to its next call as if the first had run.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_LONGEST = 500


class Nothing:
    """What a recorded operation returns: nothing ran, so there is nothing to read. It can be
    awaited, iterated, chained (``.sort().limit()``) and read (``.inserted_id``), all empty."""

    def __call__(self, *args: Any, **kwargs: Any) -> Nothing:
        return self

    def __getattr__(self, name: str) -> Nothing:
        if name.startswith("__"):
            raise AttributeError(name)
        return self

    def __getitem__(self, key: Any) -> Nothing:
        return self

    def __await__(self) -> Generator[Any, None, Nothing]:
        return self
        yield

    def __aiter__(self) -> Nothing:
        return self

    async def __anext__(self) -> Any:
        raise StopAsyncIteration

    def __iter__(self) -> Any:
        return iter(())

    def __len__(self) -> int:
        return 0

    def __int__(self) -> int:
        return 0

    __index__ = __int__

    def __repr__(self) -> str:
        return "<not executed: dry run>"


def call_text(target: str, args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> str:
    parts = [repr(a) for a in args] + [f"{k}={v!r}" for k, v in kwargs.items() if k != "session"]
    text = f"{target}({', '.join(parts)})"
    return text if len(text) <= _LONGEST else text[:_LONGEST] + "...)"


@dataclass
class Call:
    """One recorded call as it was made: ``target`` is what it was called on (``db.users``)."""

    target: str
    method: str
    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    line: int | None


class CallLog(list[str]):
    """The calls of a step: as text, what a dry run prints; as :class:`Call` objects with the
    line of the migration file (``path``) that made each one, what ``ncm lint`` reads."""

    def __init__(self, path: Path | None = None) -> None:
        super().__init__()
        self.path = path
        self.calls: list[Call] = []

    def record(self, target: str, method: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        from ncm_core.lint.calls import caller_line

        self.append(call_text(f"{target}.{method}", args, kwargs))
        self.calls.append(Call(target, method, args, kwargs, caller_line(self.path) if self.path else None))


class StandIn:
    """A driver object that records its method calls. A name that is a method of ``_real``
    (the driver's class) is recorded as a call on ``_target``; any other name is a child
    (``self[name]``: a collection of a database, a database of a client), as on the real
    object. Methods the subclass defines (those that lead to another object) win."""

    _real: type

    def __init__(self, statements: CallLog, target: str) -> None:
        self._statements = statements
        self._target = target

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        if not callable(getattr(self._real, name, None)):
            return self[name]
        return self._record(name)

    def __getitem__(self, name: str) -> Any:
        raise NotImplementedError

    def _record(self, method: str) -> Callable[..., Nothing]:
        def record(*args: Any, **kwargs: Any) -> Nothing:
            self._statements.record(self._target, method, args, kwargs)
            return Nothing()

        return record
