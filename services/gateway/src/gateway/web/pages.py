"""The pages: one router of the per-audience routers. Every unsafe method is CSRF-checked
by the router-level dependency, so no form can be added without it."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from ..deps import form_idempotency_key
from ..security import csrf_protect
from . import (
    catalogue,
    credentials,
    eligibility,
    engagements,
    health_pages,
    library_pages,
    metrics,
    notifications_pages,
    official,
    partner_pages,
    peer_pages,
    probono_pages,
    public,
    staff,
    staff_accounts,
)

router = APIRouter(dependencies=[Depends(csrf_protect), Depends(form_idempotency_key)], include_in_schema=False)
router.include_router(public.router)
router.include_router(eligibility.router)
router.include_router(credentials.router)
router.include_router(official.router)
router.include_router(staff.router)
router.include_router(staff_accounts.router)
router.include_router(metrics.router)
router.include_router(library_pages.router)
router.include_router(partner_pages.router)
router.include_router(catalogue.router)
router.include_router(peer_pages.router)
router.include_router(engagements.router)
router.include_router(notifications_pages.router)
router.include_router(health_pages.router)
router.include_router(probono_pages.router)
