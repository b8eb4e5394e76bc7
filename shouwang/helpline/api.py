"""/api/v1/helpline/: each part of the app adds its own router."""

from ninja import Router

from shouwang.helpline.api_answers import router as answers_router
from shouwang.helpline.api_requests import router as requests_router
from shouwang.helpline.api_shifts import router as shifts_router
from shouwang.helpline.api_stats import router as stats_router

router = Router(tags=["helpline"])
router.add_router("", requests_router)
router.add_router("", shifts_router)
router.add_router("", answers_router)
router.add_router("", stats_router)
