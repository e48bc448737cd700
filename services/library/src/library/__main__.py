"""`python -m library reindex`: rebuild the on-disk search index from the service's own documents."""

from __future__ import annotations

import argparse
import asyncio
import sys

from nrn_kit.mongo import make_client

from .adapters.search_sync import rebuild
from .config import Settings
from .search.index import SearchIndex


async def reindex(settings: Settings) -> int:
    if not settings.search_index_path:
        print("SEARCH_INDEX_PATH is not set: an in-memory index is rebuilt at every start "
              "(or POST /admin/search/rebuild on a running instance)", file=sys.stderr)
        return 2
    client = make_client(settings)
    try:
        index = SearchIndex(settings.search_index_path, writer_heap=settings.search_writer_heap_bytes)
        n = await rebuild(index, client[settings.database_name])
        index.close()
        print(f"indexed {n} items into {settings.search_index_path}")
        return 0
    finally:
        await client.close()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m library")
    ap.add_argument("command", choices=["reindex"])
    ap.parse_args(argv)
    return asyncio.run(reindex(Settings()))


if __name__ == "__main__":
    sys.exit(main())
