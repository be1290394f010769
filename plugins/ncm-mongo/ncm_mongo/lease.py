"""The migration lock on MongoDB: a lease document that expires unless its owner renews it.

MongoDB has no advisory locks and no session-scoped lock a crashed process would release,
so the lock is one document, ``{_id: "migration", owner, host, pid, token, acquired_at,
expires_at}`` in ``ncm_lock``. Every time in it is the server's clock (``$$NOW``), so
runners on hosts whose clocks disagree still agree on when a lease has expired.

- taken atomically: either the document is inserted (an upsert on our own token, which a
  document held by someone else turns into a duplicate-key error) or an expired one is
  taken over by a single ``find_one_and_update``;
- renewed every third of its duration while the run lasts (``ncm_core.locking.holding``);
- taken over by another runner once it has expired, or at once when its holder was a
  process of the same host that no longer exists (killed, crashed);
- released (deleted, if it is still ours) at the end.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

from ncm_core.locking import dead_here, this_process

_NOW = "$$NOW"


def describe_holder(document: dict[str, Any]) -> str:
    def at(moment: datetime) -> str:
        return f"{moment:%Y-%m-%d %H:%M:%S} UTC"

    return f"{document.get('owner', 'an unknown runner')} since {at(document['acquired_at'])} " \
           f"(lease until {at(document['expires_at'])})"


class Lease:
    def __init__(self, collection: AsyncCollection[Any], duration: float, name: str = "migration") -> None:
        self.collection = collection
        self.duration = duration
        self.name = name
        self.host, self.pid = this_process()
        self.token = uuid.uuid4().hex
        self.lost = False

    def _expiry(self) -> dict[str, Any]:
        return {"$dateAdd": {"startDate": _NOW, "unit": "millisecond", "amount": int(self.duration * 1000)}}

    def _claim(self) -> list[dict[str, Any]]:
        return [{"$set": {"owner": f"pid {self.pid} on {self.host}", "host": self.host, "pid": self.pid,
                          "token": self.token, "acquired_at": _NOW, "expires_at": self._expiry()}}]

    async def acquire(self) -> bool:
        """Take the lease if it is free, expired or left by a dead process of this host;
        False while another runner holds it."""
        expired = {"_id": self.name, "$expr": {"$lt": ["$expires_at", _NOW]}}
        if await self.collection.find_one_and_update(expired, self._claim()) is not None:
            return True
        try:
            await self.collection.update_one({"_id": self.name, "token": self.token}, self._claim(), upsert=True)
        except DuplicateKeyError:
            held = await self.collection.find_one({"_id": self.name})
            if held is None or not dead_here(held.get("host"), held.get("pid")):
                return False
            taken = await self.collection.find_one_and_update({"_id": self.name, "token": held["token"]}, self._claim())
            return taken is not None
        return True

    async def renew(self) -> bool:
        """Push the expiry forward; False when the lease expired and another runner took it."""
        result = await self.collection.update_one({"_id": self.name, "token": self.token},
                                                  [{"$set": {"expires_at": self._expiry()}}])
        return result.matched_count == 1

    async def release(self) -> None:
        await self.collection.delete_one({"_id": self.name, "token": self.token})

    async def breach(self) -> str | None:
        """Delete the lease whoever holds it; who held it, None when there was none."""
        document = await self.collection.find_one_and_delete({"_id": self.name})
        return describe_holder(document) if document is not None else None

    async def holder(self, live: bool = False) -> str | None:
        """Who holds an unexpired lease, or None when the lock is free; with ``live``, None too
        when its holder is a dead process of this host (whose lease the next taker takes over)."""
        document = await self.collection.find_one({"_id": self.name, "$expr": {"$gt": ["$expires_at", _NOW]}})
        if document is None or (live and dead_here(document.get("host"), document.get("pid"))):
            return None
        return describe_holder(document)
