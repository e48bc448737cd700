"""The gateway over real HTTP in front of the real services, on the session's broker and database."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from gateway.testing import Platform, running_platform


@pytest.fixture
async def platform(nrn_infra, test_id: str) -> AsyncIterator[Platform]:  # noqa: ANN001
    async with running_platform(nrn_infra.kafka_bootstrap_servers, nrn_infra.mongodb_uri, f"g{test_id}") as p:
        yield p
