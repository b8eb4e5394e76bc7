"""This app's part of the permission matrix (shouwang/core/tests/matrix_policy.py explains the
shape): who may open each of its URLs."""

from __future__ import annotations

from shouwang.core.tests.matrix_policy import Policy

# Stock levels and history (materials.view): the office and the grid leaders. Pages without an
# id: the outsider (admin of another community) sees their own community's store.
MATERIALS_VIEW = frozenset({"admin", "staff", "grid_leader", "outsider"})
# Forms without an id (materials.manage): the office, and the outsider for their own community.
MATERIALS_FORM = frozenset({"admin", "staff", "outsider"})
# Rows of the fixture community: the office only; the outsider gets a 404.
MATERIALS_ROWS = frozenset({"admin", "staff"})

EXPECTED: dict[str, Policy] = {
    "materials:index": Policy(MATERIALS_VIEW),
    "materials:movements": Policy(MATERIALS_VIEW),
    "materials:movements_xlsx": Policy(MATERIALS_VIEW),
    "materials:item_new": Policy(MATERIALS_FORM),
    "materials:item_edit": Policy(MATERIALS_ROWS, params={"pk": "m_item"}),
    "materials:location_new": Policy(MATERIALS_FORM),
    "materials:location_edit": Policy(MATERIALS_ROWS, params={"pk": "m_office"}),
    "materials:receipt": Policy(MATERIALS_FORM),
    "materials:issue": Policy(MATERIALS_FORM),
    "materials:transfer": Policy(MATERIALS_FORM),
    "materials:stocktake_new": Policy(MATERIALS_FORM),
    "materials:stocktake": Policy(MATERIALS_ROWS, params={"pk": "m_stocktake"}),
    "materials:stocktake_finish": Policy(
        MATERIALS_ROWS, method="POST", params={"pk": "m_stocktake"}, post_only=True
    ),
    # --- API ---
    "GET api/v1/materials/items": Policy(MATERIALS_VIEW),
    "GET api/v1/materials/locations": Policy(MATERIALS_VIEW),
    "GET api/v1/materials/low-stock": Policy(MATERIALS_VIEW),
    "GET api/v1/materials/movements": Policy(MATERIALS_VIEW),
    # The body names the fixture community's item and office: the outsider gets a 404.
    "POST api/v1/materials/movements": Policy(MATERIALS_ROWS, data="materials_receipt_json"),
}


def _receipt():
    from shouwang.supplies.materials.models import Item, Location

    item = Item.objects.get(name="医用外科口罩", community__code="HM-T")
    office = Location.objects.get(name="社区办公室", community__code="HM-T")
    return {"kind": "receipt", "item_id": item.pk, "to_location_id": office.pk, "quantity": 10}


# data key -> () -> ("form" | "json", body)
BODIES: dict = {"materials_receipt_json": lambda: ("json", _receipt())}


def rows(personas, ledger) -> dict:
    """Rows of the fixture community for this app's path parameters: masks in stock at the
    office, and a stock-take of the office under way."""
    from shouwang.supplies.materials import services

    admin = personas["admin"]
    office = services.location_save(actor=admin, name="社区办公室", kind="office")
    services.location_save(actor=admin, name="东门卡口", kind="checkpoint")
    item = services.item_save(actor=admin, name="医用外科口罩", unit="pcs", category="mask")
    services.receipt(actor=admin, item=item, location=office, quantity=1000)
    take = services.stocktake_start(actor=admin, location=office)
    return {"m_item": item, "m_office": office, "m_stocktake": take}
