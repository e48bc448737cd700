"""Settings of the library service; nothing else reads the environment."""

from __future__ import annotations

from pydantic import Field

from nrn_kit.settings import ServiceSettings


class Settings(ServiceSettings):
    service_name: str = "library"
    database_name: str = "nrn_library"
    http_port: int = 8003

    # The search index is a read model: in memory (rebuilt at every start) unless a folder is given.
    search_index_path: str | None = None
    # Pending index writes become searchable this often (a new item is searchable within about this long).
    search_commit_interval_s: float = Field(0.25, gt=0, le=5)
    search_writer_heap_bytes: int = Field(64_000_000, ge=15_000_000)
    # Follow the resources/programs change stream so every replica's index stays current.
    search_follow_changes: bool = True
