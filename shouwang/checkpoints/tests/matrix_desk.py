"""Part of the checkpoints app's permission matrix (see tests/matrix.py): desk — the index and
dashboard, visitors and couriers, parcels (and the household's "received"), paper sheets."""

from __future__ import annotations

from shouwang.core.tests.matrix_policy import HOUSEHOLD_PAGE, Policy

# checkpoints.guard: the office, grid leaders, guards and volunteers; pages without an id give
# the outsider their own community's.
GUARD = frozenset({"admin", "staff", "grid_leader", "guard", "volunteer"})
GUARD_HOME = GUARD | {"outsider"}
# checkpoints.paper: as guard, without volunteers.
PAPER_HOME = frozenset({"admin", "staff", "grid_leader", "guard", "outsider"})
# checkpoints.dashboard: the office and grid leaders.
DASHBOARD_HOME = frozenset({"admin", "staff", "grid_leader", "outsider"})

EXPECTED: dict = {
    "checkpoints:index": Policy(GUARD_HOME),
    "checkpoints:visitors": Policy(GUARD_HOME),
    "checkpoints:visitor_new": Policy(GUARD_HOME),
    "checkpoints:visitor": Policy(GUARD, params={"pk": "desk_visitor"}),
    "checkpoints:visitor_left": Policy(
        GUARD, method="POST", params={"pk": "desk_visitor"}, post_only=True
    ),
    "checkpoints:parcels": Policy(GUARD_HOME),
    "checkpoints:parcels_mine": Policy(GUARD_HOME),
    "checkpoints:parcel_new": Policy(GUARD_HOME),
    "checkpoints:parcel_step": Policy(
        GUARD,
        method="POST",
        params={"pk": "desk_parcel"},
        data="desk_step_form",
        post_only=True,
    ),
    "checkpoints:parcel_received": Policy(
        HOUSEHOLD_PAGE,
        method="POST",
        params={"hh": "h1", "pk": "desk_parcel"},
        post_only=True,
        anonymous="refuse",
    ),
    "checkpoints:paper": Policy(PAPER_HOME),
    "checkpoints:paper_sheet": Policy(PAPER_HOME),
    "checkpoints:paper_entry": Policy(PAPER_HOME),
    "GET api/v1/checkpoints/visitors": Policy(GUARD_HOME),
    # The checkpoint in the body is ours: the outsider gets a 404.
    "POST api/v1/checkpoints/visitors": Policy(GUARD, data="desk_visitor_json"),
    "POST api/v1/checkpoints/visitors/<visitor_id>/left": Policy(
        GUARD, params={"visitor_id": "desk_visitor"}
    ),
    "GET api/v1/checkpoints/parcels": Policy(GUARD_HOME),
    "POST api/v1/checkpoints/parcels": Policy(GUARD, data="desk_parcel_json"),
    "POST api/v1/checkpoints/parcels/<parcel_id>/steps": Policy(
        GUARD, params={"parcel_id": "desk_parcel"}, data="desk_step_json"
    ),
    "GET api/v1/checkpoints/dashboard": Policy(DASHBOARD_HOME),
}


def _checkpoint_id() -> int:
    from shouwang.checkpoints.models import Checkpoint

    return Checkpoint.objects.get(name="矩阵东门", community__code="HM-T").pk


def _visitor_json():
    return (
        "json",
        {
            "checkpoint_id": _checkpoint_id(),
            "kind": "courier",
            "name": "快递员",
            "phone": "13911112222",
            "company": "顺丰",
            "temperature": "36.5",
            "proof": "negative",
        },
    )


def _parcel_json():
    from shouwang.registry.models import Household

    h1 = Household.objects.get(dwelling__door="101", community__code="HM-T")
    return "json", {"checkpoint_id": _checkpoint_id(), "household_id": h1.pk, "shelf": "A1"}


BODIES: dict = {
    "desk_step_form": lambda: ("form", {"step": "disinfected"}),
    "desk_step_json": lambda: ("json", {"step": "disinfected"}),
    "desk_visitor_json": _visitor_json,
    "desk_parcel_json": _parcel_json,
}


def rows(personas, ledger, made) -> dict:
    """A checkpoint, a visitor registered there and a parcel for h1 on the shelf."""
    from shouwang.checkpoints import parcels, visitors
    from shouwang.checkpoints.models import Checkpoint

    admin = personas["admin"]
    cp = Checkpoint.objects.create(community=admin.community, name="矩阵东门")
    v = visitors.visitor_register(
        actor=admin,
        checkpoint=cp,
        kind="visitor",
        name="访客",
        phone="13911112222",
        purpose="送药",
        host=ledger["h1"],
        temperature="36.5",
        proof="negative",
    )
    p = parcels.parcel_log(actor=admin, checkpoint=cp, household=ledger["h1"], shelf="A1")
    return {"desk_checkpoint": cp, "desk_visitor": v, "desk_parcel": p}
