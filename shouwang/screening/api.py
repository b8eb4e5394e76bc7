"""/api/v1/screening/: each part of the app adds its own router."""

from ninja import Router

from shouwang.screening.api_coverage import router as coverage_router
from shouwang.screening.api_rounds import router as rounds_router
from shouwang.screening.api_scan import router as scan_router

router = Router(tags=["screening"])
router.add_router("", rounds_router)
router.add_router("", scan_router)
router.add_router("", coverage_router)
