"""The public API under /api/v1: one router made of the per-capability routers."""

from __future__ import annotations

from fastapi import APIRouter

from . import accounts, library, requests

router = APIRouter()
router.include_router(accounts.router)
router.include_router(requests.router)
router.include_router(library.router)
