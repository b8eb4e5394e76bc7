"""/api/v1/volunteers/: each part of the app adds its own router."""

from ninja import Router

from shouwang.volunteers.api_hours import router as hours_router
from shouwang.volunteers.api_people import router as people_router
from shouwang.volunteers.api_plans import router as plans_router
from shouwang.volunteers.api_tasks import router as tasks_router

router = Router(tags=["volunteers"])
router.add_router("", people_router)
router.add_router("", tasks_router)
router.add_router("", hours_router)
router.add_router("", plans_router)
