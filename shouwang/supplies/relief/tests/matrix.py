"""This app's part of the permission matrix (shouwang/core/tests/matrix_policy.py explains the
shape): who may open each of its URLs."""

from __future__ import annotations

from shouwang.core.tests.matrix_policy import Policy

# relief.manage (batches, preview, issue, recount): the office. Pages without an id are open to
# the outsider for their own community; rows of ours are a 404 for them.
MANAGE = frozenset({"admin", "staff"})
MANAGE_FORM = MANAGE | {"outsider"}
# relief.deliver (lists, recording doors, undelivered): the office and the grid leader (rows of
# grid A, which the fixture's grid leader leads).
DELIVER = frozenset({"admin", "staff", "grid_leader"})
DELIVER_HOME = DELIVER | {"outsider"}

ISSUED = {"pk": "rl_batch"}
GRID = {"pk": "rl_batch", "grid_pk": "grid_a"}
ALLOCATION = {"pk": "rl_alloc"}

EXPECTED: dict[str, Policy] = {
    "relief:index": Policy(DELIVER_HOME),
    "relief:batch_new": Policy(MANAGE_FORM),
    "relief:batch": Policy(DELIVER, params=ISSUED),
    "relief:batch_edit": Policy(MANAGE, params={"pk": "rl_draft"}),
    "relief:preview": Policy(MANAGE, params={"pk": "rl_draft"}),
    "relief:issue": Policy(MANAGE, method="POST", params={"pk": "rl_draft"}, post_only=True),
    "relief:recount": Policy(MANAGE, params=ISSUED),
    "relief:recount_issue": Policy(MANAGE, method="POST", params=ISSUED, post_only=True),
    # A batch of its own, so that closing it leaves rl_batch open for the rest of the walk.
    "relief:close": Policy(MANAGE, method="POST", params={"pk": "rl_closing"}, post_only=True),
    "relief:undelivered": Policy(DELIVER, params=ISSUED),
    "relief:grid": Policy(DELIVER, params=GRID),
    "relief:print": Policy(DELIVER, params=GRID),
    "relief:xlsx": Policy(DELIVER, params=GRID),
    "relief:scan": Policy(DELIVER, method="POST", params=GRID, data="rl_scan_form", post_only=True),
    "relief:record": Policy(
        DELIVER, method="POST", params=ALLOCATION, data="rl_record_form", post_only=True
    ),
    "relief:follow_up": Policy(
        DELIVER, method="POST", params=ALLOCATION, data="rl_follow_form", post_only=True
    ),
    "GET api/v1/relief/batches": Policy(DELIVER_HOME),
    "GET api/v1/relief/batches/<batch_id>/preview": Policy(MANAGE, params={"batch_id": "rl_draft"}),
    "POST api/v1/relief/batches/<batch_id>/issue": Policy(
        MANAGE, params={"batch_id": "rl_draft"}, data="rl_issue_json"
    ),
    "GET api/v1/relief/batches/<batch_id>/grids/<grid_id>/allocations": Policy(
        DELIVER, params={"batch_id": "rl_batch", "grid_id": "grid_a"}
    ),
    "POST api/v1/relief/allocations/<allocation_id>/record": Policy(
        DELIVER, params={"allocation_id": "rl_alloc"}, data="rl_record_json"
    ),
}


def _scan():
    from shouwang.residents.models import Pass
    from shouwang.residents.tokens import token_for

    # r1's pass (issued by the matrix's residents rows): h1, on grid A's list.
    return "form", {"token": token_for(Pass.objects.get(resident__name="王小明").code)}


# data key -> () -> ("form" | "json", body)
BODIES: dict = {
    "rl_scan_form": _scan,
    "rl_record_form": lambda: ("form", {"status": "delivered"}),
    "rl_follow_form": lambda: ("form", {"follow_up": "电话联系，明天再送"}),
    "rl_issue_json": lambda: ("json", {}),
    "rl_record_json": lambda: ("json", {"status": "not_home", "note": "敲门无人"}),
}


def rows(personas, ledger) -> dict:
    """An issued batch (h1, h2 on grid A's list, h3 on grid B's), a draft, and an issued batch
    to close."""
    from shouwang.supplies.relief import services
    from shouwang.supplies.relief.models import ReliefAllocation

    admin = personas["admin"]
    community = admin.community

    def batch(title):
        return services.batch_save(
            actor=admin, community=community, title=title, portions_available=100
        )

    issued = batch("第一批")
    services.batch_issue(actor=admin, batch=issued)
    closing = batch("第二批")
    services.batch_issue(actor=admin, batch=closing)
    return {
        "rl_batch": issued,
        "rl_draft": batch("第三批"),
        "rl_closing": closing,
        "rl_alloc": ReliefAllocation.objects.get(batch=issued, household=ledger["h1"]),
    }
