"""The one NinjaAPI, mounted at /api/v1/."""

from ninja import NinjaAPI
from ninja.security import SessionAuth

from shouwang.core.api import BearerToken, install_error_handlers

api = NinjaAPI(
    title="Shouwang API",
    version="1",
    description="The committee's ledger and operations. Authenticate with a session or "
    "`Authorization: Bearer <token>` (`shouwang accounts_token USERNAME`).",
    auth=[BearerToken(), SessionAuth()],
    urls_namespace="api",
)
install_error_handlers(api)

from shouwang.accounts.api import router as accounts_router  # noqa: E402
from shouwang.care.api import router as care_router  # noqa: E402
from shouwang.checkpoints.api import router as checkpoints_router  # noqa: E402
from shouwang.control.api import router as control_router  # noqa: E402
from shouwang.grids.api import router as grids_router  # noqa: E402
from shouwang.helpline.api import router as helpline_router  # noqa: E402
from shouwang.medicine.api import router as medicine_router  # noqa: E402
from shouwang.queues.api import router as queues_router  # noqa: E402
from shouwang.registry.api import router as registry_router  # noqa: E402
from shouwang.residents.api import router as residents_router  # noqa: E402
from shouwang.screening.api import router as screening_router  # noqa: E402
from shouwang.supplies.buying.api import router as buying_router  # noqa: E402
from shouwang.supplies.materials.api import router as materials_router  # noqa: E402
from shouwang.supplies.relief.api import router as relief_router  # noqa: E402
from shouwang.volunteers.api import router as volunteers_router  # noqa: E402

api.add_router("/accounts/", accounts_router)
api.add_router("/registry/", registry_router)
api.add_router("/grids/", grids_router)
api.add_router("/passes/", residents_router)
api.add_router("/queue/", queues_router)
api.add_router("/relief/", relief_router)
api.add_router("/screening/", screening_router)
api.add_router("/buying/", buying_router)
api.add_router("/materials/", materials_router)
api.add_router("/control/", control_router)
api.add_router("/checkpoints/", checkpoints_router)
api.add_router("/volunteers/", volunteers_router)
api.add_router("/helpline/", helpline_router)
api.add_router("/medicine/", medicine_router)
api.add_router("/care/", care_router)
