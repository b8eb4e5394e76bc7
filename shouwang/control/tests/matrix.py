"""Area control's part of the permission matrix (shouwang/core/tests/matrix_policy.py explains
the shape)."""

from __future__ import annotations

from shouwang.core.tests.matrix_policy import Policy

# control.view / control.propose: the office and grid leaders; the outsider (an admin of another
# community) sees their own community on pages without an id, and gets a 404 for our rows.
VIEW = frozenset({"admin", "staff", "grid_leader"})
VIEW_HOME = VIEW | {"outsider"}
# control.approve: the committee admin, never on their own proposal (the rows are staff's).
APPROVE = frozenset({"admin"})
# Withdrawing: only the proposer (staff proposed the rows).
PROPOSER = frozenset({"staff"})

EXPECTED: dict = {
    "control:index": Policy(VIEW_HOME),
    "control:place": Policy(VIEW, params={"kind": "ct_kind", "pk": "ct_building"}),
    "control:propose": Policy(VIEW_HOME),
    "control:proposal": Policy(VIEW, params={"pk": "ct_prop"}),
    "control:approve": Policy(APPROVE, method="POST", params={"pk": "ct_prop"}, post_only=True),
    "control:reject": Policy(
        APPROVE, method="POST", params={"pk": "ct_prop_reject"}, data="ct_note", post_only=True
    ),
    "control:withdraw": Policy(
        PROPOSER, method="POST", params={"pk": "ct_prop_withdraw"}, post_only=True
    ),
    "control:history": Policy(VIEW_HOME),
    "control:history_csv": Policy(VIEW_HOME),
    "control:notice": Policy(VIEW, params={"pk": "ct_control"}),
    "GET api/v1/control/controls": Policy(VIEW_HOME),
    "GET api/v1/control/proposals": Policy(VIEW_HOME),
    "POST api/v1/control/proposals": Policy(VIEW, data="ct_proposal_json"),
    "POST api/v1/control/proposals/<proposal_id>/approve": Policy(
        APPROVE, params={"proposal_id": "ct_prop_api"}, data="ct_note_json"
    ),
    "POST api/v1/control/proposals/<proposal_id>/reject": Policy(
        APPROVE, params={"proposal_id": "ct_prop_reject_api"}, data="ct_note_json"
    ),
    "POST api/v1/control/proposals/<proposal_id>/withdraw": Policy(
        PROPOSER, params={"proposal_id": "ct_prop_withdraw_api"}
    ),
    "GET api/v1/control/history": Policy(VIEW_HOME),
}


class _Key:
    """A path parameter that is not a row's id."""

    def __init__(self, value: str):
        self.pk = value


def _proposal_json():
    from shouwang.registry.models import Building

    b = Building.objects.get(name="2号楼", compound__name="新虹公寓")
    return "json", {
        "kind": "building",
        "place_id": b.pk,
        "level": "close_contact",
        "reason": "矩阵测试",
    }


BODIES: dict = {
    "ct_note": lambda: ("form", {"note": "证据不足"}),
    "ct_note_json": lambda: ("json", {"note": "证据不足"}),
    "ct_proposal_json": _proposal_json,
}


def rows(personas, ledger) -> dict:
    """Proposals by staff on the ledger's places (one per decision route, on places and levels
    that do not collide), and a level in force for the door notice."""
    from shouwang.control import services
    from shouwang.control.testing import put_under

    staff = personas["staff"]
    ba, bb = ledger["h1"].building, ledger["h3"].building
    unit_a, unit_b = ledger["h1"].dwelling.unit, ledger["h3"].dwelling.unit

    def prop(place, level):
        return services.proposal_create(actor=staff, place=place, level=level, reason="矩阵测试")

    return {
        "ct_kind": _Key("building"),
        "ct_building": ba,
        "ct_prop": prop(unit_a, "sealed"),
        "ct_prop_api": prop(unit_b, "sealed"),
        "ct_prop_reject": prop(ba, "precaution"),
        "ct_prop_reject_api": prop(bb, "precaution"),
        "ct_prop_withdraw": prop(ba.compound, "controlled"),
        "ct_prop_withdraw_api": prop(bb.compound, "controlled"),
        "ct_control": put_under(ba, "close_contact"),
    }
