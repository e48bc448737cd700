"""Library, Q&A record and clearinghouse: /api/v1/library, /api/v1/clearinghouse."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
