"""The pages (routes are added in phase 2). Every unsafe method is CSRF-checked."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from ..security import csrf_protect

router = APIRouter(dependencies=[Depends(csrf_protect)], include_in_schema=False)
