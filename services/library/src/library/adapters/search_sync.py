"""Keeps the search read model in step with the service's own documents.

At start the index is rebuilt from `resources` + `programs` and the curated synonyms are loaded.
Then every replica follows the three collections' change streams and applies each change to its own index, so an item written
by any replica (an API call, or a consumer applying another service's event) is searchable
within the commit interval. The streams are opened before the rebuild so nothing written
during it is missed (applying a change twice is harmless: upserts replace by id).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from ..search.documents import SearchDoc, from_program, from_resource
from ..search.index import SearchIndex
from . import PROGRAMS, RESOURCES, SYNONYMS
from .repository import all_programs, all_resources, program_from_doc, resource_from_doc

log = logging.getLogger(__name__)


def doc_for(collection: str, d: dict[str, Any]) -> SearchDoc:
    if collection == RESOURCES:
        return from_resource(resource_from_doc(d))
    return from_program(program_from_doc(d))


async def load_synonyms(index: SearchIndex, db: AsyncDatabase) -> int:
    groups = [d.get("phrases", []) async for d in db[SYNONYMS].find({})]
    index.set_synonyms(groups)
    return len(groups)


async def rebuild(index: SearchIndex, db: AsyncDatabase) -> int:
    docs: list[SearchDoc] = [from_resource(r) async for r in all_resources(db)]
    docs += [from_program(p) async for p in all_programs(db)]
    return await asyncio.to_thread(index.rebuild, docs)


class SearchSync:
    def __init__(self, index: SearchIndex, db: AsyncDatabase, *, max_await_ms: int = 250) -> None:
        self.index = index
        self.db = db
        self.applied = 0
        self._max_await_ms = max_await_ms
        self._tasks: list[asyncio.Task] = []
        self._stopping = asyncio.Event()

    async def _watch(self, coll: str):  # noqa: ANN202
        return await self.db[coll].watch(full_document="updateLookup", max_await_time_ms=self._max_await_ms)

    async def start(self, *, follow: bool = True) -> int:
        streams = [(coll, await self._watch(coll)) for coll in (RESOURCES, PROGRAMS, SYNONYMS)] if follow else []
        await load_synonyms(self.index, self.db)
        n = await rebuild(self.index, self.db)
        for coll, stream in streams:
            self._tasks.append(asyncio.create_task(self._follow(coll, stream), name=f"search-sync:{coll}"))
        return n

    async def _follow(self, coll: str, stream) -> None:  # noqa: ANN001
        # Polled with try_next and stopped by a flag, not by cancelling a pending getMore: cancelling
        # the driver mid-call left its cursor clean-up spinning.
        try:
            while not self._stopping.is_set():
                try:
                    change = await stream.try_next()
                except Exception:
                    if self._stopping.is_set():
                        return
                    log.exception("change stream of %s failed; reopening it and rebuilding the index", coll)
                    with contextlib.suppress(Exception):
                        await stream.close()
                    await asyncio.sleep(1)
                    stream = await self._watch(coll)
                    await (load_synonyms if coll == SYNONYMS else rebuild)(self.index, self.db)
                    continue
                if change is None:
                    await asyncio.sleep(0.02)
                    continue
                if coll == SYNONYMS:  # a small list: any change reloads all of it
                    await load_synonyms(self.index, self.db)
                    continue
                # off the event loop: the writer's lock may be held by a commit in progress
                await asyncio.to_thread(self.apply, coll, change)
        finally:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(stream.close(), timeout=2)

    def apply(self, coll: str, change: dict[str, Any]) -> None:
        op = change.get("operationType")
        key = (change.get("documentKey") or {}).get("_id")
        if op in ("insert", "update", "replace"):
            full = change.get("fullDocument")
            if full is None:  # deleted again before the lookup
                if key is not None:
                    self.index.delete([str(key)])
            else:
                try:
                    self.index.upsert([doc_for(coll, full)])
                except Exception:  # a document the index cannot take must not stop the stream
                    log.exception("cannot index %s/%s", coll, key)
                    return
        elif op == "delete" and key is not None:
            self.index.delete([str(key)])
        else:
            return
        self.applied += 1

    async def stop(self) -> None:
        self._stopping.set()
        if self._tasks:
            _, pending = await asyncio.wait(self._tasks, timeout=5)
            for t in pending:
                t.cancel()
        self._tasks.clear()
