"""The pass decision over the API (/api/v1/checkpoints/), for integrations with a Bearer token
(or a session): the same decision, by the same function (`decision.record`), as the guard page's
endpoint. A script has no gate key: it names the checkpoint in the body, and its user must be a
guard role (`checkpoints.guard`) of the checkpoint's community.

    POST /api/v1/checkpoints/pass      {"checkpoint": id, <a passage as for the guard page>}
    GET  /api/v1/checkpoints/reasons   every reason code with its decision and label

Answers as the page's (200 with `ok: true`); refusals in the API's error shape
`{"error": {"code", "message", "fields", …}}` with the same codes and statuses.
"""

from __future__ import annotations

from django.utils import translation
from django.utils.translation import gettext as _
from ninja import Body, Router
from ninja.errors import HttpError

from shouwang.accounts.permissions import require
from shouwang.checkpoints import decision as service
from shouwang.checkpoints.gatekey import GateKey
from shouwang.checkpoints.models import Checkpoint
from shouwang.core.errors import NotFound

router = Router(tags=["checkpoints"])


def _gate(request, data) -> GateKey:
    require(request.auth, "checkpoints.guard")
    if not isinstance(data, dict):
        raise HttpError(400, "body must be a JSON object")
    user = request.auth
    try:
        checkpoint_id = int(data.get("checkpoint"))
    except (TypeError, ValueError):
        raise service.Refused("bad_request", _("Say which checkpoint: `checkpoint`.")) from None
    if not Checkpoint.objects.filter(
        pk=checkpoint_id, community_id=user.community_id, is_active=True
    ).exists():
        raise NotFound("not_found", _("No such checkpoint in use in your community."))
    return GateKey(user.pk, user.community_id, checkpoint_id, translation.get_language())


@router.post("/pass", url_name="checkpoints_pass", summary="Decide and log a passage")
def pass_(request, data: dict = Body(...)):
    """Answers `recorded` or `replayed` (this uid was recorded before) with the decision
    (`allow`, `deny`, `check`) and its reasons; refuses bad input (400) and people not in the
    ledger (404)."""
    # A refusal (DomainError) becomes the API's error shape in core.api's one handler.
    return service.record(_gate(request, data), data)


@router.get("/reasons", url_name="checkpoints_reasons", summary="The decision's reason codes")
def reasons(request):
    require(request.auth, "checkpoints.guard")
    return [
        {"code": code, "decision": decision, "label": str(label)}
        for code, (decision, label) in service.REASONS.items()
    ]
