"""Relief over the API (/api/v1/relief/): batches, the preview, issuing, a grid's list and
recording a door. The rules are in services.py and selectors.py, as for the HTML pages."""

from __future__ import annotations

from ninja import Router, Status

from shouwang.accounts.permissions import require
from shouwang.control import levels
from shouwang.grids.selectors import grid_get_for
from shouwang.supplies.relief import selectors, services
from shouwang.supplies.relief.schemas import (
    AllocationOut,
    BatchOut,
    IssueIn,
    IssueOut,
    PreviewOut,
    RecordIn,
)

router = Router(tags=["relief"])

LIST_LIMIT = 100


def _batch_out(b) -> dict:
    return {
        "id": b.pk,
        "title": b.title,
        "contents": b.content_lines,
        "status": b.status,
        "portions_available": b.portions_available,
        "per_household": b.per_household,
        "large_threshold": b.large_threshold,
        "large_portions": b.large_portions,
        "tag_extras": {str(k): v for k, v in b.extras().items()},
        "scope": b.scope,
        "compound_ids": [c.pk for c in b.compounds.all()],
        "control_levels": list(levels.parse(b.control_levels)),
        "grid_ids": [g.pk for g in b.grids.all()],
        "partial": b.partial,
        "issued_at": b.issued_at,
    }


def _totals(t) -> dict:
    return {
        "households": t.households,
        "people": t.people,
        "portions": t.portions,
        "large": t.large,
    }


@router.get(
    "/batches",
    response=list[BatchOut],
    url_name="relief_batches",
    summary="Relief batches of the caller's community, newest first",
)
def batches_list(request):
    require(request.auth, "relief.deliver")
    qs = selectors.batches_for(request.auth).prefetch_related("compounds", "grids")
    return [_batch_out(b) for b in qs[:LIST_LIMIT]]


@router.get(
    "/batches/{batch_id}/preview",
    response=PreviewOut,
    url_name="relief_preview",
    summary="What the rule gives per compound, grid and building, and the shortfall",
)
def batch_preview(request, batch_id: int):
    require(request.auth, "relief.manage")
    batch = selectors.batch_get_for(request.auth, batch_id)
    p = selectors.preview(batch)
    return {
        "batch_id": batch.pk,
        "portions_available": batch.portions_available,
        "total": _totals(p.total),
        "shortfall": p.shortfall,
        "empty_households": p.empty_households,
        "by_compound": [
            {"id": c["id"], "name": c["name"], "totals": _totals(c["t"])} for c in p.by_compound
        ],
        "by_grid": [
            {"id": g["id"], "name": g["name"], "totals": _totals(g["t"])} for g in p.by_grid
        ],
        "by_building": [
            {"id": b["id"], "name": b["name"], "totals": _totals(b["t"])} for b in p.by_building
        ],
        "left_out_count": p.left_out_count,
        "left_out_portions": p.left_out_portions,
        "left_out": [
            {
                "household_id": x["household"].pk,
                "place": f"{x['household'].building} {x['household'].dwelling.door}",
                "portions": x["portions"],
            }
            for x in p.left_out
        ],
    }


@router.post(
    "/batches/{batch_id}/issue",
    response={200: IssueOut, 201: IssueOut},
    url_name="relief_issue",
    summary="Issue a batch: make the allocations",
)
def batch_issue(request, batch_id: int, payload: IssueIn):
    """201 when the allocations were made; 200 with `already` when the batch was issued before
    (issuing twice does nothing more). 409 `relief_short` when the rule gives more portions than
    are available and `partial` is not set."""
    require(request.auth, "relief.manage")
    batch = selectors.batch_get_for(request.auth, batch_id)
    r = services.batch_issue(actor=request.auth, batch=batch, partial=payload.partial)
    body = {
        "batch_id": r.batch.pk,
        "status": r.batch.status,
        "already": r.already,
        "created": r.created,
        "portions": r.portions,
        "left_out": r.left_out,
    }
    return Status(200 if r.already else 201, body)


def _allocation_out(a) -> dict:
    return {
        "id": a.pk,
        "household_id": a.household_id,
        "building": f"{a.building.compound.name} {a.building.name}",
        "door": a.door,
        "head_masked": a.head_masked,
        "phone_masked": a.phone_masked,
        "people": a.people,
        "portions": a.portions,
        "status": a.status,
        "recorded_at": a.recorded_at,
        "note": a.note,
        "follow_up": a.follow_up,
    }


@router.get(
    "/batches/{batch_id}/grids/{grid_id}/allocations",
    response=list[AllocationOut],
    url_name="relief_grid_allocations",
    summary="A grid's distribution list (grid leaders: their grid only)",
)
def grid_allocations(request, batch_id: int, grid_id: int):
    require(request.auth, "relief.deliver")
    batch = selectors.batch_get_for(request.auth, batch_id)
    grid = grid_get_for(request.auth, grid_id)
    return [_allocation_out(a) for a in selectors.grid_list(batch, grid.pk)]


@router.post(
    "/allocations/{allocation_id}/record",
    response=AllocationOut,
    url_name="relief_record",
    summary="Record a door: delivered, not at home, refused (or back to pending)",
)
def allocation_record(request, allocation_id: int, payload: RecordIn):
    require(request.auth, "relief.deliver")
    a = selectors.allocation_get_for(request.auth, allocation_id)
    a = services.allocation_record(
        actor=request.auth, allocation=a, status=payload.status, note=payload.note
    )
    a = selectors.allocations_for(request.auth).select_related("building__compound").get(pk=a.pk)
    return _allocation_out(a)
