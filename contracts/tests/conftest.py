from collections.abc import Iterator

import pytest

from nrn_contracts import EVENT_TYPES


@pytest.fixture
def registry() -> Iterator[dict]:
    """EVENT_TYPES, restored after the test so classes defined in it do not leak."""
    saved = dict(EVENT_TYPES)
    yield EVENT_TYPES
    EVENT_TYPES.clear()
    EVENT_TYPES.update(saved)
