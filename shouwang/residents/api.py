"""Passes over the API: resolve a scanned pass to its holder; issue and revoke passes.

Every scanner of the product (gate, sampling point, queue, delivery) resolves through
`services.pass_resolve`, here and on the scanner page alike. Resolving writes nothing: a retried
scan gets the same answer, and the modules that let people through record their own passages.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from ninja import Router

from shouwang.accounts.permissions import require
from shouwang.accounts.scope import get_scoped
from shouwang.core.errors import Forbidden
from shouwang.registry.models import Resident
from shouwang.residents import services, tokens
from shouwang.residents.models import Pass
from shouwang.residents.schemas import (
    IssueIn,
    IssueOut,
    PassHolderOut,
    ResolveIn,
    RevokeIn,
    RevokeOut,
)

router = Router(tags=["passes"])

RESIDENT_GRID = "household__building__grid"
PASS_GRID = "resident__household__building__grid"


def scanner_community(user) -> int:
    """The community whose passes this user may accept. Never None: `pass_resolve` would read
    None as "any community"."""
    if user.community_id is None:
        raise Forbidden(
            "no_community",
            _("Your account belongs to no community, so it cannot check passes. Ask the admin."),
        )
    return user.community_id


def holder_out(holder: services.PassHolder) -> dict:
    return {
        "pass_id": holder.pass_id,
        "resident_id": holder.resident_id,
        "household_id": holder.household_id,
        "name_masked": holder.name_masked,
        "place": holder.place,
        "presence": holder.presence,
        "age": holder.age,
        "tags": holder.tags,
    }


@router.post(
    "/resolve",
    response=PassHolderOut,
    url_name="passes_resolve",
    summary="Who holds this pass (a scan or a typed code)",
)
def passes_resolve(request, payload: ResolveIn):
    """The holder of an active pass of the caller's community: masked name, place, age and care
    tags. A pass that gives no person is a 422 whose `code` says why (`pass_empty`,
    `pass_unreadable`, `pass_forged`, `pass_unknown`, `pass_revoked`, `pass_elsewhere`) and whose
    `message` says what to do. Lower case, dashes, spaces and full-width characters are accepted.
    Nothing is written."""
    require(request.auth, "passes.scan")
    community_id = scanner_community(request.auth)
    return holder_out(services.pass_resolve(payload.token, community_id=community_id))


@router.post(
    "/residents/{resident_id}/issue",
    response=IssueOut,
    url_name="passes_issue",
    summary="Issue a pass (a reissue revokes the old one at once)",
)
def passes_issue(request, resident_id: int, payload: IssueIn | None = None):
    require(request.auth, "passes.manage")
    resident = get_scoped(
        request.auth,
        Resident.objects.all(),
        resident_id,
        grid_path=RESIDENT_GRID,
    )
    reason = (payload.reason if payload is not None else "").strip()
    p = services.pass_issue(actor=request.auth, resident=resident, reason=reason)
    token = tokens.token_for(p.code)
    return {"pass_id": p.pk, "token": token, "grouped": tokens.grouped(token)}


@router.post(
    "/{pass_id}/revoke",
    response=RevokeOut,
    url_name="passes_revoke",
    summary="Revoke a pass (lost card, photo shared …), with a reason",
)
def passes_revoke(request, pass_id: int, payload: RevokeIn):
    require(request.auth, "passes.manage")
    p = get_scoped(request.auth, Pass.objects.all(), pass_id, grid_path=PASS_GRID)
    p = services.pass_revoke(actor=request.auth, pass_=p, reason=payload.reason)
    return {"pass_id": p.pk, "status": p.status}
