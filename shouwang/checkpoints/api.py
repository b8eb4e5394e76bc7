"""/api/v1/checkpoints/: each part of the app adds its own router."""

from ninja import Router

from shouwang.checkpoints.api_desk import router as desk_router
from shouwang.checkpoints.api_guard import router as guard_router
from shouwang.checkpoints.api_places import router as places_router

router = Router(tags=["checkpoints"])
router.add_router("", places_router)
router.add_router("", guard_router)
router.add_router("", desk_router)
