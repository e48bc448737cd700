"""The orphan sweep (by itself, every ORPHAN_SWEEP_INTERVAL_SECONDS, one check per stored file) asks
whether an application references a file without naming its index: a hinted find on the embedded
database walks the whole index and reads every application, once per file. Checked on the plan
(``explain``) over applications that do not reference the file, and on what the check finds."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from engagements.adapters import files
from engagements.adapters import mongo as repo
from engagements.config import Settings
from nrn_kit.mongo import plan_index
from nrn_kit.testing import indexed_database


@pytest.fixture
async def db(make_settings):  # noqa: ANN001
    """Just the database with engagements' indexes: no sweep removing the files of this test."""
    async with indexed_database(make_settings(Settings), repo.INDEXES) as database:
        yield database


async def test_the_orphan_check_uses_the_attachments_index(db) -> None:  # noqa: ANN001
    t = datetime(2025, 1, 1, tzinfo=UTC)
    await db[repo.APPLICATIONS].insert_many(
        [{"_id": f"app-{i:04d}", "status": "draft", "created_at": t,
          "attachments": [{"id": f"file-{i}-{j}", "filename": "budget.pdf"} for j in range(i % 3)]}
         for i in range(1_500)])

    explained = await files.explain_orphan_check(db, "file-8-1")
    assert plan_index(explained) == "attachments", explained
    assert await db[repo.APPLICATIONS].find_one(files.referencing("file-8-1"), {"_id": 1}) == {"_id": "app-0008"}
    assert await db[repo.APPLICATIONS].find_one(files.referencing("file-8-2"), {"_id": 1}) is None
