"""Library benchmarks: search against the raw engine, and event-to-search through the whole service."""
