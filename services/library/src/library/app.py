"""The one wiring point of the library service."""

from __future__ import annotations

import asyncio
import logging

from fastapi import FastAPI

from nrn_contracts.topics import LIBRARY_TOPIC
from nrn_kit.app import Runtime, ServiceSpec
from nrn_kit.app import create_app as create_app_from_spec

from . import api, consumers, handlers
from .adapters import INDEXES
from .adapters.search_sync import SearchSync
from .config import Settings
from .domain.redaction import Redactor
from .search.index import Committer, SearchIndex

log = logging.getLogger(__name__)


async def start_search(rt: Runtime) -> None:
    s: Settings = rt.settings  # type: ignore[assignment]
    index = SearchIndex(s.search_index_path, writer_heap=s.search_writer_heap_bytes)
    committer = Committer(index, interval=s.search_commit_interval_s)
    sync = SearchSync(index, rt.db)
    rt.state.update(search=index, search_committer=committer, search_sync=sync)
    await handlers.ensure_default_synonyms(rt.store)
    n = await sync.start(follow=s.search_follow_changes)
    committer.start()
    log.info("search index rebuilt with %d items", n)
    # load the census name lists and place names now, not inside the first consumer transaction
    await asyncio.to_thread(Redactor)


async def stop_search(rt: Runtime) -> None:
    sync: SearchSync | None = rt.state.get("search_sync")
    committer: Committer | None = rt.state.get("search_committer")
    if sync:
        await sync.stop()
    if committer:
        await committer.stop()
    index: SearchIndex | None = rt.state.get("search")
    if index:
        index.close()


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    return create_app_from_spec(ServiceSpec(
        settings=settings,
        title="library",
        description="NRN library: curated resources, the record of answered questions, the federal clearinghouse, "
                    "search",
        routers=[api.router],
        consumers=[consumers.consumer],
        indexes=INDEXES,
        publishes=[LIBRARY_TOPIC],
        on_start=[start_search],
        on_stop=[stop_search],
    ))
