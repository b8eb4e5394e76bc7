"""Part of the help line's permission matrix (see tests/matrix.py): the shift page, handovers, the
day's close, the settings, the answers (knowledge base) and the figures — pages and API."""

from __future__ import annotations

from shouwang.core.tests.matrix_policy import Policy

# helpline.take (A, G, S). Pages without an id: the outsider gets their own community's.
TAKE = frozenset({"admin", "staff", "grid_leader"})
TAKE_HOME = TAKE | {"outsider"}
# helpline.manage (A, S): settings and writing answers.
MANAGE = frozenset({"admin", "staff"})
MANAGE_HOME = MANAGE | {"outsider"}
# helpline.answers: everyone who answers residents' questions, the guard at the gate included.
ANSWERS = frozenset({"admin", "staff", "grid_leader", "guard", "sampler", "volunteer"})
ANSWERS_HOME = ANSWERS | {"outsider"}
# helpline.stats (A, S).
STATS_HOME = frozenset({"admin", "staff", "outsider"})

API = "api/v1/helpline"
EXPECTED: dict = {
    "helpline:shifts": Policy(TAKE_HOME),
    # The form's select offers the caller's own community: the outsider's POST is a form error.
    "helpline:handover_new": Policy(
        TAKE_HOME, method="POST", data="hs_handover_form", post_only=True
    ),
    "helpline:shift_day": Policy(TAKE_HOME),
    "helpline:handover": Policy(TAKE, params={"pk": "hs_handover"}),
    "helpline:handover_ack": Policy(
        TAKE, method="POST", params={"pk": "hs_handover"}, post_only=True
    ),
    "helpline:settings": Policy(MANAGE_HOME),
    "helpline:category_new": Policy(
        MANAGE_HOME, method="POST", data="hs_category_form", post_only=True
    ),
    "helpline:category_edit": Policy(
        MANAGE, method="POST", params={"pk": "hs_category"}, data="hs_category_edit", post_only=True
    ),
    "helpline:answers": Policy(ANSWERS_HOME),
    "helpline:answers_json": Policy(ANSWERS_HOME),
    "helpline:answer": Policy(ANSWERS, params={"pk": "hs_answer"}),
    "helpline:answer_new": Policy(MANAGE_HOME),
    "helpline:answer_edit": Policy(MANAGE, params={"pk": "hs_answer"}),
    "helpline:answer_checked": Policy(
        MANAGE, method="POST", params={"pk": "hs_answer"}, post_only=True
    ),
    "helpline:answer_retire": Policy(
        MANAGE, method="POST", params={"pk": "hs_answer_old"}, post_only=True
    ),
    "helpline:stats": Policy(STATS_HOME),
    "helpline:stats_xlsx": Policy(STATS_HOME),
    f"GET {API}/shift": Policy(TAKE_HOME),
    f"GET {API}/overdue": Policy(TAKE_HOME),
    f"GET {API}/handovers": Policy(TAKE_HOME),
    # The receiver named in the body is of the fixture community: the outsider gets a 404.
    f"POST {API}/handovers": Policy(TAKE, data="hs_handover_json"),
    f"GET {API}/handovers/<handover_id>": Policy(TAKE, params={"handover_id": "hs_handover"}),
    f"POST {API}/handovers/<handover_id>/ack": Policy(TAKE, params={"handover_id": "hs_handover"}),
    f"GET {API}/day-close": Policy(TAKE_HOME),
    f"GET {API}/answers": Policy(ANSWERS_HOME),
    f"POST {API}/answers": Policy(MANAGE_HOME, data="hs_answer_json"),
    f"GET {API}/answers/<answer_id>": Policy(ANSWERS, params={"answer_id": "hs_answer"}),
    f"PATCH {API}/answers/<answer_id>": Policy(
        MANAGE, params={"answer_id": "hs_answer"}, data="hs_answer_patch"
    ),
    f"POST {API}/answers/<answer_id>/checked": Policy(MANAGE, params={"answer_id": "hs_answer"}),
    f"POST {API}/answers/<answer_id>/retire": Policy(
        MANAGE, params={"answer_id": "hs_answer_old"}, data="hs_restore_json"
    ),
    f"GET {API}/stats": Policy(STATS_HOME),
}


def _operator():
    from shouwang.accounts.models import User

    return User.objects.get(username="hs_operator")


BODIES: dict = {
    "hs_handover_form": lambda: ("form", {"received_by": _operator().pk, "note": "交班"}),
    "hs_handover_json": lambda: ("json", {"received_by_id": _operator().pk, "note": "交班"}),
    "hs_category_form": lambda: (
        "form",
        {"new-group": "repairs", "new-name": "矩阵类别", "new-limit_minutes": 60},
    ),
    "hs_category_edit": lambda: ("form", {}),
    "hs_answer_json": lambda: ("json", {"question": "矩阵问题", "body": "矩阵回答"}),
    "hs_answer_patch": lambda: ("json", {"keywords": "矩阵"}),
    "hs_restore_json": lambda: ("json", {"restore": True}),
}


def rows(personas, ledger, made) -> dict:
    """An operator to hand over to, an automatic handover with h1's request on its list (anyone
    on duty may acknowledge it), the current shifts handed over, a category, a current answer
    and a retired one."""
    import datetime as dt

    from django.utils import timezone

    from shouwang.core.testing import make_user
    from shouwang.helpline import answers, shifts
    from shouwang.helpline.testing import category, make_request

    community = personas["admin"].community
    make_user("staff", community, username="hs_operator")
    make_request(community, household=ledger["h1"], summary="矩阵交班")
    now = timezone.now()
    start, end = shifts.shift_at(community.pk, now - dt.timedelta(days=2))
    h = shifts.handover(None, community.pk, now=end, automatic=True, shift=(start, end))
    # The shift the walk would hand over is handed over already, so its POSTs answer with that
    # handover and move nobody's requests (the request part's rows stay as they are).
    for shift in (shifts.previous_shift(community.pk, now), shifts.shift_at(community.pk, now)):
        shifts.handover(None, community.pk, now=now, automatic=True, shift=shift)
    admin = personas["admin"]
    old = answers.answer_save(
        actor=admin, community_id=community.pk, question="旧规定", body="已作废"
    )
    answers.answer_retire(actor=admin, answer=old)
    return {
        "hs_handover": h,
        "hs_category": category(community),
        "hs_answer": answers.answer_save(
            actor=admin, community_id=community.pk, question="怎么配药", body="打热线登记"
        ),
        "hs_answer_old": old,
    }
