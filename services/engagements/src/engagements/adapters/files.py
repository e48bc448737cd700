"""Attachments in MongoDB GridFS (pymongo's `AsyncGridFSBucket`), their type read from the content.

The type is what libmagic (the `file` command's library, through `python-magic`) finds in the
bytes, never the name or the Content-Type the browser sent: a program renamed `letter.pdf` is
refused. Only the types an application needs are accepted (PDF, Word, Excel, PNG, JPEG), each up
to the configured size.

GridFS writes cannot join a MongoDB transaction (pymongo refuses, as MongoDB does), so a file is
stored first and then referenced from the application in the command's transaction. When that
transaction fails the file is deleted at once; `sweep_orphans` deletes any a crash left behind
(files older than an hour that no application references). Checked on the embedded database
(SecantusDB): upload, download, find and delete behave as on MongoDB.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import magic
from bson import ObjectId
from bson.errors import InvalidId
from gridfs import AsyncGridFSBucket
from gridfs.errors import NoFile
from pymongo.asynchronous.database import AsyncDatabase

from nrn_kit.mongo import explain

from ..domain.errors import InvalidInput, NotFound
from .mongo import APPLICATIONS, ATTACHMENTS_BUCKET

# detected type → (label people read, the extension a download gets)
ALLOWED_TYPES: dict[str, tuple[str, str]] = {
    "application/pdf": ("PDF", "pdf"),
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": ("Word document", "docx"),
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": ("Excel workbook", "xlsx"),
    "image/png": ("PNG image", "png"),
    "image/jpeg": ("JPEG image", "jpg"),
}
SNIFF_BYTES = 8_192
CHUNK_BYTES = 255 * 1024


def sniff(data: bytes) -> str:
    """The content type libmagic reads in the first bytes (Office files need the zip's directory,
    so the whole file is given when it is small enough)."""
    return magic.from_buffer(data if len(data) <= 4 * 1024 * 1024 else data[:SNIFF_BYTES], mime=True)


def check_upload(data: bytes, *, max_bytes: int) -> str:
    """The content type of an acceptable upload; InvalidInput (field ``file``) naming why not."""
    if not data:
        raise InvalidInput("file_empty", "the file is empty", field="file")
    if len(data) > max_bytes:
        raise InvalidInput("file_too_large", f"the file is larger than {max_bytes // (1024 * 1024)} MB", field="file")
    detected = sniff(data)
    if detected not in ALLOWED_TYPES:
        kinds = ", ".join(label for label, _ in ALLOWED_TYPES.values())
        raise InvalidInput("file_type_not_accepted", f"the file's content is not an accepted type ({kinds})",
                           field="file")
    return detected


def safe_filename(name: str | None, content_type: str) -> str:
    """A display name without path parts or control characters, ending in the detected type's extension."""
    base = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    base = "".join(ch for ch in base if ch.isprintable() and ch not in '<>:"|?*').strip(" .")[:150]
    ext = ALLOWED_TYPES[content_type][1]
    stem = base.rsplit(".", 1)[0] if "." in base else base
    return f"{stem or 'attachment'}.{ext}"


@dataclass
class StoredFile:
    id: str
    filename: str
    content_type: str
    size: int


def referencing(file_id: str) -> dict[str, Any]:
    """Applications that list the stored file ``file_id`` among their attachments (index ``attachments``)."""
    return {"attachments.id": file_id}


async def explain_orphan_check(db: AsyncDatabase, file_id: str) -> dict[str, Any]:
    """The planner's choice for the orphan sweep's check of one file, as it is sent (nothing run)."""
    return await explain(db, {"find": APPLICATIONS, "filter": referencing(file_id), "projection": {"_id": 1},
                              "limit": 1})


class AttachmentStore:
    def __init__(self, db: AsyncDatabase) -> None:
        self.db = db
        self.bucket = AsyncGridFSBucket(db, bucket_name=ATTACHMENTS_BUCKET, chunk_size_bytes=CHUNK_BYTES)

    async def put(self, data: bytes, *, filename: str, content_type: str, application_id: str,
                  uploaded_by: str) -> StoredFile:
        file_id = ObjectId()
        await self.bucket.upload_from_stream_with_id(file_id, filename, data, metadata={
            "content_type": content_type, "application_id": application_id, "uploaded_by": uploaded_by,
            "upload": uuid.uuid4().hex})
        return StoredFile(id=str(file_id), filename=filename, content_type=content_type, size=len(data))

    async def get(self, file_id: str) -> tuple[bytes, dict[str, Any]]:
        try:
            stream = await self.bucket.open_download_stream(ObjectId(file_id))
        except (NoFile, InvalidId):
            raise NotFound("attachment_not_found", "no such attachment", field="attachment_id") from None
        data = await stream.read()
        return data, dict(stream.metadata or {})

    async def delete(self, file_id: str) -> None:
        try:
            await self.bucket.delete(ObjectId(file_id))
        except (NoFile, InvalidId):
            pass

    async def sweep_orphans(self, now: datetime, older_than: timedelta = timedelta(hours=1)) -> int:
        """Delete stored files no application references (left by a crash between upload and save).

        The check per file names no index (``hint``): the sweep runs by itself, and on the embedded
        database a hinted find walks the whole index and reads every application, once per file;
        the filter alone makes the planner choose ``attachments`` (test ``test_orphan_sweep_plan``)."""
        removed = 0
        async for grid_out in self.bucket.find({"uploadDate": {"$lt": now - older_than}}):
            referenced = await self.db[APPLICATIONS].find_one(referencing(str(grid_out._id)), {"_id": 1})
            if referenced is None:
                await self.delete(str(grid_out._id))
                removed += 1
        return removed
