"""Part of the help line's permission matrix (see tests/matrix.py): intake, the ledger and a
request's work — pages and the requests API.

Everyone on duty (helpline.take: admin, staff, the grid leader for their grid's households) takes
calls and works unowned requests; the matrix's requests are on h1 (grid A) and have no owner, so
all three may act on them. The outsider opens the pages without an id (their own ledger) and gets
a 404 on ours."""

from __future__ import annotations

from shouwang.core.tests.matrix_policy import LEDGER_VIEW, OWN_ROWS_VIEW, Policy

API = "api/v1/helpline"


def _post(key: str, data: str) -> Policy:
    return Policy(OWN_ROWS_VIEW, method="POST", params={"pk": key}, data=data, post_only=True)


def _api(key: str, data: str | None = None) -> Policy:
    return Policy(OWN_ROWS_VIEW, params={"request_id": key}, data=data)


EXPECTED: dict = {
    "helpline:index": Policy(LEDGER_VIEW),
    "helpline:intake": Policy(LEDGER_VIEW),
    "helpline:lookup": Policy(LEDGER_VIEW),
    "helpline:request": Policy(OWN_ROWS_VIEW, params={"pk": "hl_req"}),
    "helpline:request_assign": _post("hl_assign", "hl_assign_form"),
    "helpline:request_start": Policy(
        OWN_ROWS_VIEW, method="POST", params={"pk": "hl_start"}, post_only=True
    ),
    "helpline:request_note": _post("hl_note", "hl_note_form"),
    "helpline:request_resolve": _post("hl_resolve", "hl_resolve_form"),
    "helpline:request_callback": _post("hl_callback", "hl_callback_form"),
    "helpline:request_reopen": _post("hl_reopen", "hl_reopen_form"),
    f"GET {API}/requests": Policy(LEDGER_VIEW),
    # The outsider sends a category of ours: 404, as for any id of another community.
    f"POST {API}/requests": Policy(OWN_ROWS_VIEW, data="hl_create_json"),
    f"GET {API}/requests/<request_id>": _api("hl_req"),
    f"POST {API}/requests/<request_id>/assign": _api("hl_api_assign", "hl_assign_json"),
    f"POST {API}/requests/<request_id>/start": _api("hl_api_start"),
    f"POST {API}/requests/<request_id>/note": _api("hl_api_note", "hl_note_json"),
    f"POST {API}/requests/<request_id>/resolve": _api("hl_api_resolve", "hl_resolve_json"),
    f"POST {API}/requests/<request_id>/callback": _api("hl_api_callback", "hl_callback_json"),
    f"POST {API}/requests/<request_id>/reopen": _api("hl_api_reopen", "hl_reason_json"),
    f"GET {API}/phone": Policy(LEDGER_VIEW),
}


def _staff_id() -> int:
    from shouwang.accounts.models import User

    return User.objects.get(username="staff").pk


def _category_id() -> int:
    from shouwang.accounts.models import User
    from shouwang.helpline.selectors import categories_for

    return categories_for(User.objects.get(username="admin").community_id).first().pk


BODIES: dict = {
    "hl_assign_form": lambda: ("form", {"owner": _staff_id(), "text": "请跟进"}),
    "hl_note_form": lambda: ("form", {"text": "已联系药店"}),
    "hl_resolve_form": lambda: ("form", {"outcome": "resolved", "resolution": "药已送到"}),
    "hl_callback_form": lambda: ("form", {"satisfaction": "satisfied", "note": "满意"}),
    "hl_reopen_form": lambda: ("form", {"reason": "居民再次来电"}),
    "hl_create_json": lambda: ("json", {"category_id": _category_id(), "summary": "矩阵来电"}),
    "hl_assign_json": lambda: ("json", {"owner_id": _staff_id()}),
    "hl_note_json": lambda: ("json", {"text": "已联系药店"}),
    "hl_resolve_json": lambda: ("json", {"resolution": "药已送到"}),
    "hl_callback_json": lambda: ("json", {"satisfaction": "satisfied"}),
    "hl_reason_json": lambda: ("json", {"reason": "居民再次来电"}),
}


def rows(personas, ledger, made) -> dict:
    """Unowned requests of h1 (grid A): live ones, resolved ones to call back, closed ones to
    reopen — one for each page action and one for each API action."""
    from shouwang.helpline import intake
    from shouwang.helpline.testing import make_request

    admin = personas["admin"]
    community = admin.community

    def live(summary: str):
        return make_request(
            community,
            actor=admin,
            household=ledger["h1"],
            summary=summary,
            caller_phone="13912345678",
        )

    def resolved(summary: str):
        return intake.resolve(admin, live(summary), resolution="已办")

    def closed(summary: str):
        return intake.callback(admin, resolved(summary), satisfaction="satisfied")

    return {
        "hl_req": live("矩阵诉求"),
        "hl_assign": live("矩阵指派"),
        "hl_api_assign": live("矩阵指派API"),
        "hl_start": live("矩阵开始"),
        "hl_api_start": live("矩阵开始API"),
        "hl_note": live("矩阵备注"),
        "hl_api_note": live("矩阵备注API"),
        "hl_resolve": live("矩阵办结"),
        "hl_api_resolve": live("矩阵办结API"),
        "hl_callback": resolved("矩阵回访"),
        "hl_api_callback": resolved("矩阵回访API"),
        "hl_reopen": closed("矩阵重开"),
        "hl_api_reopen": closed("矩阵重开API"),
    }
