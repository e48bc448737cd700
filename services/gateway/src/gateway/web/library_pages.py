"""Library, clearinghouse and curation pages."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
