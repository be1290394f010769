"""PyMongo's errors as one line: the server's own message, never a topology dump or a URL."""

from __future__ import annotations

from pymongo.errors import OperationFailure, ServerSelectionTimeoutError

# Code 263, OperationNotSupportedInTransaction: what a migration meets when it sends DDL
# that MongoDB refuses inside a transaction (drop, collMod, renameCollection, dropIndexes,
# an index build on an existing collection).
NOT_IN_TRANSACTION = 263


def describe(exc: BaseException) -> str:
    if isinstance(exc, ServerSelectionTimeoutError):
        # "host:port: reason (configured timeouts: ...), Timeout: 5.0s, Topology Description: <...>"
        reason = str(exc).split(", Timeout:", 1)[0].split(" (configured timeouts", 1)[0]
        return f"no server answered ({reason.strip() or 'server selection timed out'})"
    if isinstance(exc, OperationFailure):
        details = exc.details or {}
        message = details.get("errmsg") or str(exc).split(", full error:", 1)[0]
        text = f"{message} (code {exc.code}{', ' + details['codeName'] if details.get('codeName') else ''})"
        if exc.code == NOT_IN_TRANSACTION:
            text += "; MongoDB refuses this inside a transaction: set `transactional = False` in the migration"
        return text
    lines = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {lines[0]}" if lines else type(exc).__name__
