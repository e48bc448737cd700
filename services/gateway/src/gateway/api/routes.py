"""The public API under /api/v1 (routes are added in phase 2)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
