"""This app's part of the permission matrix (see core/tests/matrix_policy.py): the care list, a
person's page and follow-ups, a need into a request, pairings and the policy, pages and API."""

from __future__ import annotations

from shouwang.core.tests.matrix_policy import Policy

# care.view / care.follow on rows of the fixture community (grid A for the grid leader).
CARE = frozenset({"admin", "staff", "grid_leader"})
# Pages without an id: the outsider gets their own community's.
CARE_HOME = CARE | {"outsider"}
# care.manage on rows of the fixture community; pages without an id for the outsider too.
MANAGE = frozenset({"admin", "staff"})
MANAGE_HOME = MANAGE | {"outsider"}

API = "api/v1/care"
EXPECTED: dict = {
    "care:index": Policy(CARE_HOME),
    "care:person": Policy(CARE, params={"pk": "r1"}),
    "care:follow_up": Policy(
        CARE, method="POST", params={"pk": "r1"}, data="care_follow_up_form", post_only=True
    ),
    "care:to_request": Policy(
        CARE,
        method="POST",
        params={"pk": "care_fu_page"},
        data="care_request_form",
        post_only=True,
    ),
    "care:pairings": Policy(MANAGE_HOME),
    "care:pair_bulk": Policy(MANAGE_HOME, method="POST", data="care_bulk_form", post_only=True),
    "care:pair": Policy(
        MANAGE, method="POST", params={"pk": "r1"}, data="care_pair_form", post_only=True
    ),
    "care:unpair": Policy(MANAGE, method="POST", params={"pk": "care_paired_page"}, post_only=True),
    "care:policy": Policy(MANAGE_HOME),
    f"GET {API}/people": Policy(CARE_HOME),
    f"GET {API}/people/<resident_id>": Policy(CARE, params={"resident_id": "r1"}),
    f"POST {API}/people/<resident_id>/follow-ups": Policy(
        CARE, params={"resident_id": "r1"}, data="care_follow_up_json"
    ),
    f"POST {API}/follow-ups/<follow_up_id>/request": Policy(
        CARE, params={"follow_up_id": "care_fu_api"}, data="care_request_json"
    ),
    f"POST {API}/people/<resident_id>/pairing": Policy(
        MANAGE, params={"resident_id": "r1"}, data="care_pair_json"
    ),
    f"POST {API}/people/<resident_id>/unpair": Policy(
        MANAGE, params={"resident_id": "care_paired_api"}
    ),
    f"GET {API}/policy": Policy(MANAGE_HOME),
    f"PATCH {API}/policy": Policy(MANAGE_HOME, data="care_policy_json"),
}


def _staff_pk() -> int:
    from shouwang.accounts.models import User

    return User.objects.get(username="staff").pk


def _category_pk() -> int:
    from shouwang.helpline.models import Category, Group

    return (
        Category.objects.filter(community__code="HM-T", group=Group.LIVELIHOOD)
        .order_by("position")
        .first()
        .pk
    )


BODIES: dict = {
    "care_follow_up_form": lambda: ("form", {"mode": "phone", "outcome": "well"}),
    "care_request_form": lambda: ("form", {"category": _category_pk(), "urgency": 3}),
    "care_bulk_form": lambda: ("form", {"carers": [f"u{_staff_pk()}"]}),
    "care_pair_form": lambda: ("form", {"carer": f"u{_staff_pk()}", "every_days": "2"}),
    "care_follow_up_json": lambda: ("json", {"mode": "visit", "outcome": "well"}),
    "care_request_json": lambda: ("json", {"category_id": _category_pk(), "urgency": 3}),
    "care_pair_json": lambda: ("json", {"carer_id": _staff_pk()}),
    "care_policy_json": lambda: ("json", {"every_days": 2}),
}


def rows(personas, ledger) -> dict:
    """r1 (grid A) on the list with two follow-ups that recorded a need (one for the page, one
    for the API); r2 and r1b (grid A) paired, to be unpaired by the page and the API."""
    from shouwang.care.testing import make_follow_up, make_pairing
    from shouwang.helpline.selectors import categories_for
    from shouwang.registry.models import CareTag

    community = personas["admin"].community
    categories_for(community.pk)  # the help line's default categories, made on first read
    r1, r2, r1b = ledger["r1"], ledger["r2"], ledger["r1b"]
    for r in (r1, r2, r1b):
        r.tags = CareTag.AGE_80 | CareTag.LIVING_ALONE
        r.save(update_fields=["tags"])
    staff = personas["staff"]
    make_pairing(r2, carer=staff)
    make_pairing(r1b, carer=staff)
    return {
        "care_fu_page": make_follow_up(r1, by=staff, needs="需要买降压药"),
        "care_fu_api": make_follow_up(r1, by=staff, needs="煤气快用完了"),
        "care_paired_page": r2,
        "care_paired_api": r1b,
    }
