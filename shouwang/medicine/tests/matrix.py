"""The medicine pipeline's part of the permission matrix (see core/tests/matrix_policy.py).

Rows: needs of r1 (h1, grid A) at each stage a route needs, in runs of the fixture community;
the run "md_run" is driven by the matrix's volunteer, so the volunteer opens it and moves its
needs (fetch, deliver) and nothing else. The outsider gets their own community on pages without
an id and a 404 on our rows."""

from __future__ import annotations

from shouwang.core.tests.matrix_policy import Policy

# medicine.register on our rows (grid leaders: grid A's households).
REGISTER = frozenset({"admin", "staff", "grid_leader"})
REGISTER_HOME = REGISTER | {"outsider"}
# medicine.manage on our rows; pages without an id for the outsider too.
MANAGE = frozenset({"admin", "staff"})
MANAGE_HOME = MANAGE | {"outsider"}
# medicine.deliver on a run the volunteer drives that carries a grid A need.
DELIVER = frozenset({"admin", "staff", "grid_leader", "volunteer"})
DELIVER_HOME = DELIVER | {"outsider"}

API = "api/v1/medicine"
EXPECTED: dict = {
    "medicine:index": Policy(DELIVER_HOME),
    "medicine:need_new": Policy(REGISTER_HOME),
    "medicine:need": Policy(REGISTER, params={"pk": "md_need"}),
    "medicine:need_edit": Policy(REGISTER, params={"pk": "md_need"}),
    "medicine:need_advance": Policy(
        DELIVER,
        method="POST",
        params={"pk": "md_bought_page"},
        data="md_to_picked_form",
        post_only=True,
    ),
    "medicine:need_cancel": Policy(
        REGISTER,
        method="POST",
        params={"pk": "md_cancel_page"},
        data="md_reason_form",
        post_only=True,
    ),
    "medicine:need_remove": Policy(
        MANAGE, method="POST", params={"pk": "md_in_run_page"}, post_only=True
    ),
    "medicine:need_settle": Policy(MANAGE, params={"pk": "md_delivered"}),
    "medicine:runs": Policy(DELIVER_HOME),
    "medicine:run_new": Policy(MANAGE_HOME),
    "medicine:run": Policy(DELIVER, params={"pk": "md_run"}),
    "medicine:run_edit": Policy(MANAGE, params={"pk": "md_run"}),
    "medicine:run_add": Policy(
        MANAGE, method="POST", params={"pk": "md_run"}, data="md_add_form", post_only=True
    ),
    "medicine:run_advance": Policy(
        DELIVER, method="POST", params={"pk": "md_run"}, data="md_to_picked_form", post_only=True
    ),
    "medicine:run_print": Policy(DELIVER, params={"pk": "md_run"}),
    "medicine:policy": Policy(MANAGE_HOME),
    f"GET {API}/needs": Policy(REGISTER_HOME),
    f"POST {API}/needs": Policy(REGISTER, data="md_need_json"),
    f"GET {API}/needs/<need_id>": Policy(REGISTER, params={"need_id": "md_need"}),
    f"PATCH {API}/needs/<need_id>": Policy(
        REGISTER, params={"need_id": "md_need"}, data="md_patch_json"
    ),
    f"POST {API}/needs/<need_id>/cancel": Policy(
        REGISTER, params={"need_id": "md_cancel_api"}, data="md_reason_json"
    ),
    f"POST {API}/needs/<need_id>/advance": Policy(
        DELIVER, params={"need_id": "md_bought_api"}, data="md_to_picked_json"
    ),
    f"POST {API}/needs/<need_id>/settle": Policy(
        MANAGE, params={"need_id": "md_delivered"}, data="md_settle_json"
    ),
    f"POST {API}/needs/<need_id>/remove": Policy(
        MANAGE, params={"need_id": "md_in_run_api"}, data="md_reason_json"
    ),
    f"GET {API}/runs": Policy(DELIVER_HOME),
    f"POST {API}/runs": Policy(MANAGE_HOME, data="md_run_json"),
    f"GET {API}/runs/<run_id>": Policy(DELIVER, params={"run_id": "md_run"}),
    f"POST {API}/runs/<run_id>/needs": Policy(
        MANAGE, params={"run_id": "md_run"}, data="md_add_json"
    ),
    f"POST {API}/runs/<run_id>/advance": Policy(
        DELIVER, params={"run_id": "md_run"}, data="md_to_picked_json"
    ),
    f"GET {API}/hospital-days": Policy(REGISTER_HOME),
}


def _waiting_ids() -> list[int]:
    from shouwang.medicine.models import Need, Stage

    return list(
        Need.objects.filter(drug__startswith="矩阵待配", stage=Stage.REGISTERED).values_list(
            "pk", flat=True
        )[:1]
    )


def _r1_id() -> int:
    from shouwang.registry.models import Resident

    return Resident.objects.get(name="王小明", community__code="HM-T").pk


def _run_json():
    import datetime as dt

    from django.utils import timezone

    return (
        "json",
        {
            "source": "pharmacy",
            "place": "益丰大药房",
            "date": (timezone.localdate() + dt.timedelta(days=3)).isoformat(),
        },
    )


BODIES: dict = {
    "md_to_picked_form": lambda: ("form", {"to": "picked_up"}),
    "md_to_picked_json": lambda: ("json", {"to": "picked_up"}),
    "md_reason_form": lambda: ("form", {"reason": "矩阵测试"}),
    "md_reason_json": lambda: ("json", {"reason": "矩阵测试"}),
    "md_add_form": lambda: ("form", {"need": _waiting_ids()}),
    "md_add_json": lambda: ("json", {"need_ids": _waiting_ids()}),
    "md_need_json": lambda: (
        "json",
        {"resident_id": _r1_id(), "drug": "矩阵降压药", "quantity": "1盒"},
    ),
    "md_patch_json": lambda: ("json", {"note": "矩阵测试"}),
    "md_settle_json": lambda: ("json", {"amount": "12.50", "paid_by": "resident"}),
    "md_run_json": _run_json,
}


def rows(personas, ledger) -> dict:
    from shouwang.medicine.models import Need, Stage
    from shouwang.medicine.testing import make_need, make_run

    community = personas["admin"].community
    r1 = ledger["r1"]
    run = make_run(community, source="pharmacy", place="矩阵药房", driver=personas["volunteer"])

    def need(stage: str, drug: str = "矩阵药"):
        n = make_need(r1, drug=drug)
        if stage != Stage.REGISTERED:
            Need.objects.filter(pk=n.pk).update(stage=stage, run=run)
            n.refresh_from_db()
        return n

    # Each POST route has needs of its own, so one persona's walk leaves the others' intact;
    # several waiting needs: each "add" of the walk takes one.
    for _i in range(3):
        need(Stage.REGISTERED, "矩阵待配")
    # Bought needs on the run: the whole-run advance moves those left after the single ones.
    need(Stage.BOUGHT)
    return {
        "md_run": run,
        "md_need": need(Stage.REGISTERED),
        "md_cancel_page": need(Stage.REGISTERED),
        "md_cancel_api": need(Stage.REGISTERED),
        "md_in_run_page": need(Stage.IN_RUN),
        "md_in_run_api": need(Stage.IN_RUN),
        "md_bought_page": need(Stage.BOUGHT),
        "md_bought_api": need(Stage.BOUGHT),
        "md_delivered": need(Stage.DELIVERED),
    }
