"""`python -m bench.library`: both library benchmarks with their default sizes (see README.md)."""

from __future__ import annotations

import sys

from . import bench_event_to_search, bench_search


def main() -> None:
    argv = sys.argv[1:]
    sys.argv = [sys.argv[0], *argv]
    print("== library search: service against the raw engine (100,000 resources)", flush=True)
    bench_search.main()
    sys.argv = [sys.argv[0]]
    print("== library: event on the broker -> searchable over HTTP", flush=True)
    bench_event_to_search.main()


if __name__ == "__main__":
    main()
