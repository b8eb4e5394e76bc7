"""This app's part of the permission matrix (shouwang/core/tests/matrix_policy.py explains the
shape): who may open each of its URLs."""

from __future__ import annotations

from shouwang.core.tests.matrix_policy import HOUSEHOLD_PAGE, PUBLIC, Policy

# Merchants, catalogue, windows (buying.manage): the office; pages without an id are the
# outsider's own community.
BUY_MANAGE = frozenset({"admin", "staff"})
BUY_MANAGE_FORM = BUY_MANAGE | {"outsider"}
# Phone orders, order lists, payments (buying.order): the office and the grid leader.
BUY_ORDER = frozenset({"admin", "staff", "grid_leader"})
BUY_HOME = BUY_ORDER | {"outsider"}
# The merchant's own pages (buying.merchant), scoped by its MerchantMember.
MERCHANT = frozenset({"merchant"})
# The delivery chain (buying.deliver): the office, the grid leader and the volunteers.
DELIVER = frozenset({"admin", "staff", "grid_leader", "volunteer"})
DELIVER_HOME = DELIVER | {"outsider"}

EXPECTED: dict[str, Policy] = {
    "buying:index": Policy(BUY_HOME),
    "buying:merchant_new": Policy(BUY_MANAGE_FORM),
    "buying:merchant": Policy(BUY_MANAGE, params={"pk": "b_merchant"}),
    "buying:merchant_edit": Policy(BUY_MANAGE, params={"pk": "b_merchant"}),
    "buying:member_add": Policy(
        BUY_MANAGE, method="POST", params={"pk": "b_merchant"}, data="b_member", post_only=True
    ),
    "buying:member_remove": Policy(
        BUY_MANAGE, method="POST", params={"pk": "b_member_gone"}, post_only=True
    ),
    "buying:schedule": Policy(
        BUY_MANAGE, method="POST", params={"pk": "b_merchant"}, post_only=True
    ),
    "buying:product_new": Policy(BUY_MANAGE, params={"merchant_pk": "b_merchant"}),
    "buying:product_edit": Policy(BUY_MANAGE, params={"pk": "b_product"}),
    "buying:window_new": Policy(BUY_MANAGE, params={"pk": "b_merchant"}),
    "buying:window": Policy(BUY_ORDER, params={"pk": "b_window"}),
    "buying:window_close": Policy(
        BUY_MANAGE, method="POST", params={"pk": "b_window_closing"}, post_only=True
    ),
    "buying:phone_order": Policy(BUY_ORDER, params={"pk": "b_window"}),
    "buying:order_payment": Policy(
        BUY_ORDER, method="POST", params={"pk": "b_order1"}, data="b_payment", post_only=True
    ),
    "buying:order_cancel": Policy(
        BUY_ORDER, method="POST", params={"pk": "b_order2"}, post_only=True
    ),
    "buying:photo": Policy(PUBLIC, params={"pk": "b_product", "digest": "b_digest"}),
    # --- from the household page (no staff sign-in) ---
    "buying:place": Policy(
        HOUSEHOLD_PAGE,
        method="POST",
        params={"hh": "h1", "pk": "b_window"},
        data="b_place",
        post_only=True,
        anonymous="refuse",
    ),
    "buying:cancel": Policy(
        HOUSEHOLD_PAGE,
        method="POST",
        params={"hh": "h1", "pk": "b_order1"},
        post_only=True,
        anonymous="refuse",
    ),
    # --- the merchant's side ---
    "buying:merchant_home": Policy(MERCHANT),
    "buying:merchant_window": Policy(MERCHANT, params={"pk": "b_window"}),
    "buying:merchant_picking": Policy(MERCHANT, params={"pk": "b_window"}),
    "buying:merchant_picking_xlsx": Policy(MERCHANT, params={"pk": "b_window"}),
    "buying:merchant_slips": Policy(MERCHANT, params={"pk": "b_window"}),
    "buying:merchant_payment": Policy(
        MERCHANT, method="POST", params={"pk": "b_order1"}, data="b_payment", post_only=True
    ),
    # --- the delivery chain ---
    "buying:delivery_home": Policy(DELIVER_HOME),
    "buying:delivery": Policy(DELIVER, params={"pk": "b_window_done"}),
    "buying:delivery_step": Policy(
        DELIVER, method="POST", params={"pk": "b_window_done"}, data="b_step", post_only=True
    ),
    "buying:delivery_rest": Policy(
        BUY_MANAGE, method="POST", params={"pk": "b_window_done"}, data="b_rest", post_only=True
    ),
    "buying:delivery_code": Policy(
        DELIVER, method="POST", params={"pk": "b_window_done"}, data="b_code", post_only=True
    ),
    "buying:delivery_building": Policy(
        DELIVER, params={"pk": "b_window_done", "building_pk": "b_building"}
    ),
    "buying:delivery_arrived": Policy(
        DELIVER,
        method="POST",
        params={"pk": "b_window_done", "building_pk": "b_building"},
        post_only=True,
    ),
    "buying:delivery_door": Policy(
        DELIVER, method="POST", params={"pk": "b_order3"}, post_only=True
    ),
    "buying:delivery_problem": Policy(
        DELIVER, method="POST", params={"pk": "b_order3"}, data="b_problem", post_only=True
    ),
    "buying:problems": Policy(BUY_HOME),
    "buying:problem_resolve": Policy(
        BUY_ORDER, method="POST", params={"pk": "b_problem_row"}, post_only=True
    ),
    "buying:received": Policy(
        HOUSEHOLD_PAGE,
        method="POST",
        params={"hh": "h1", "pk": "b_order3"},
        post_only=True,
        anonymous="refuse",
    ),
    "buying:problem": Policy(
        HOUSEHOLD_PAGE,
        method="POST",
        params={"hh": "h1", "pk": "b_order3"},
        data="b_problem",
        post_only=True,
        anonymous="refuse",
    ),
    "buying:merchant_dispatch": Policy(
        MERCHANT, method="POST", params={"pk": "b_window_done"}, post_only=True
    ),
    "GET api/v1/buying/windows/<window_id>/delivery": Policy(
        DELIVER, params={"window_id": "b_window_done"}
    ),
    "POST api/v1/buying/windows/<window_id>/delivery/steps": Policy(
        DELIVER, params={"window_id": "b_window_done"}, data="b_step_json"
    ),
    "POST api/v1/buying/windows/<window_id>/delivery/buildings/<building_id>": Policy(
        DELIVER, params={"window_id": "b_window_done", "building_id": "b_building"}, data="b_empty"
    ),
    "POST api/v1/buying/windows/<window_id>/delivery/confirm": Policy(
        DELIVER, params={"window_id": "b_window_done"}, data="b_code_json"
    ),
    "POST api/v1/buying/orders/<order_id>/delivered": Policy(
        DELIVER, params={"order_id": "b_order3"}
    ),
    "POST api/v1/buying/orders/<order_id>/receipt": Policy(
        BUY_ORDER, params={"order_id": "b_order3"}
    ),
    "POST api/v1/buying/orders/<order_id>/problems": Policy(
        DELIVER, params={"order_id": "b_order3"}, data="b_problem_json"
    ),
    "GET api/v1/buying/problems": Policy(BUY_HOME),
    "POST api/v1/buying/problems/<problem_id>/resolve": Policy(
        BUY_ORDER, params={"problem_id": "b_problem_row"}, data="b_empty"
    ),
    "POST api/v1/buying/merchant/windows/<window_id>/dispatch": Policy(
        MERCHANT, params={"window_id": "b_window_done"}
    ),
    # --- API ---
    "GET api/v1/buying/windows": Policy(BUY_HOME),
    "GET api/v1/buying/households/<household_id>/windows": Policy(
        BUY_ORDER, params={"household_id": "h1"}
    ),
    "POST api/v1/buying/windows/<window_id>/orders": Policy(
        BUY_ORDER, params={"window_id": "b_window"}, data="b_order_json"
    ),
    "GET api/v1/buying/windows/<window_id>/orders": Policy(
        BUY_ORDER, params={"window_id": "b_window"}
    ),
    "PUT api/v1/buying/orders/<order_id>": Policy(
        BUY_ORDER, params={"order_id": "b_order1"}, data="b_change_json"
    ),
    "POST api/v1/buying/orders/<order_id>/cancel": Policy(
        BUY_ORDER, params={"order_id": "b_order2"}
    ),
    "POST api/v1/buying/orders/<order_id>/payment": Policy(
        BUY_ORDER, params={"order_id": "b_order1"}, data="b_payment_json"
    ),
    "GET api/v1/buying/merchant/windows/<window_id>/picking": Policy(
        MERCHANT, params={"window_id": "b_window"}
    ),
}


def _product_id() -> int:
    from shouwang.supplies.buying.models import Product

    return Product.objects.get(name="矩阵白菜").pk


def _h1_id() -> int:
    from shouwang.registry.models import Household

    return Household.objects.get(dwelling__door="101", community__code="HM-T").pk


def _member():
    from shouwang.accounts.models import User

    return {"user": User.objects.get(username="merchant_two").pk}


def _code() -> str:
    from shouwang.supplies.buying.models import Order

    return Order.objects.get(window__title="矩阵已送", household__dwelling__door="101").pickup_code


# data key -> () -> ("form" | "json", body)
BODIES: dict = {
    "b_step": lambda: ("form", {"step": "released"}),
    "b_rest": lambda: ("form", {"minutes": "60"}),
    "b_code": lambda: ("form", {"code": _code()}),
    "b_problem": lambda: ("form", {"kind": "damaged", "note": "矩阵：鸡蛋碎了"}),
    "b_step_json": lambda: ("json", {"step": "released"}),
    "b_code_json": lambda: ("json", {"code": _code()}),
    "b_problem_json": lambda: ("json", {"kind": "missing", "note": "矩阵：少一棵"}),
    "b_empty": lambda: ("json", {}),
    "b_member": lambda: ("form", _member()),
    "b_payment": lambda: ("form", {"payment_status": "paid", "payment_method": "online"}),
    "b_place": lambda: ("form", {f"q_{_product_id()}": "1"}),
    "b_order_json": lambda: (
        "json",
        {"household_id": _h1_id(), "lines": [{"product_id": _product_id(), "quantity": 1}]},
    ),
    "b_change_json": lambda: ("json", {"lines": [{"product_id": _product_id(), "quantity": 2}]}),
    "b_payment_json": lambda: (
        "json",
        {"payment_status": "paid", "payment_method": "cash_on_delivery"},
    ),
}


class _Key:
    def __init__(self, value: str):
        self.pk = value


def rows(personas, ledger) -> dict:
    """A vetted merchant serving the community, linked to the merchant persona (and a second
    merchant user to unlink), a product with a photo, an open window where h1 and h2 have
    ordered, and a window to close."""
    from shouwang.core.testing import make_user
    from shouwang.supplies.buying import services
    from shouwang.supplies.buying.models import MerchantMember, Product
    from shouwang.supplies.buying.tests.builders import make_merchant, make_product, make_window

    community = personas["admin"].community
    m = make_merchant(community, name="矩阵超市", every_days=2)
    m.opens_time, m.closes_time = services.dt.time(8), services.dt.time(20)
    m.save()
    MerchantMember.objects.create(user=personas["merchant"], merchant=m)
    gone = MerchantMember.objects.create(
        user=make_user("merchant", community, username="merchant_gone"), merchant=m
    )
    make_user("merchant", community, username="merchant_two")
    p = make_product(m, name="矩阵白菜", stock=1000, limit=5)
    jpeg = b"\xff\xd8\xff\xe0matrix-photo\xff\xd9"
    Product.objects.filter(pk=p.pk).update(photo=jpeg, thumb=jpeg, photo_hash="0123456789abcdef")
    w = make_window(m)
    o1 = services.order_place(window=w, household=ledger["h1"], lines={p.pk: 1}).order
    o2 = services.order_place(window=w, household=ledger["h2"], lines={p.pk: 1}).order
    # A closed window whose batch is released and at h1's building: the delivery chain's URLs.
    from shouwang.supplies.buying import delivery
    from shouwang.supplies.buying.tests.builders import close

    done = make_window(m, title="矩阵已送", opened=services.dt.timedelta(hours=3))
    o3 = services.order_place(window=done, household=ledger["h1"], lines={p.pk: 1}).order
    services.order_place(window=done, household=ledger["h3"], lines={p.pk: 1})
    close(done)
    admin = personas["admin"]
    for step in ("dispatched", "arrived", "disinfected"):
        delivery.batch_step(actor=admin, window=done, step=step)
    delivery.batch_rest_set(actor=admin, batch=delivery.batch_of(done), minutes=0)
    delivery.batch_step(actor=admin, window=done, step="released")
    building = ledger["h1"].building
    delivery.building_arrived(actor=admin, window=done, building=building)
    problem = delivery.problem_report(order=o3, kind="missing", note="矩阵", via="household")
    return {
        "b_window_done": done,
        "b_order3": o3,
        "b_building": building,
        "b_problem_row": problem,
        "b_merchant": m,
        "b_member_gone": gone,
        "b_product": p,
        "b_digest": _Key("0123456789abcdef"),
        "b_window": w,
        "b_window_closing": make_window(m, title="要关的"),
        "b_order1": o1,
        "b_order2": o2,
    }
