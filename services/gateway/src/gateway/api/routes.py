"""The public API under /api/v1: one router made of the per-capability routers."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from ..deps import api_idempotency_key
from . import accounts, engagements, library, notifications, partners, peer, requests

# Commands' Idempotency-Key is passed on to the services (nrn_kit.idempotency keeps the answers).
router = APIRouter(dependencies=[Depends(api_idempotency_key)])
router.include_router(accounts.router)
router.include_router(requests.router)
router.include_router(library.router)
router.include_router(partners.router)
router.include_router(peer.router)
router.include_router(engagements.router)
router.include_router(notifications.router)
