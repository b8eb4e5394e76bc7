"""The materials store of the demo community, after Dongtian's (seed 004): 15,000 masks at the
community office, protective suits, gloves, thermometers, disinfectant and antigen kits, two
checkpoints stocked from the office, issues to grid teams, checkpoints and volunteers over the
last week, and thermometers below their alert level.

Everything goes through the services, as the office would; only the movement times are then
spread over the week (a demo may do that, the product never does)."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from shouwang.accounts.models import Role, User
from shouwang.grids.models import Grid
from shouwang.supplies.materials import services
from shouwang.supplies.materials.models import Item, Movement

OFFICE = "社区办公室"
# (name, unit, category, alert at, received at the office, supplier or donor)
ITEMS = [
    ("医用外科口罩", "只", "mask", 2000, 15000, "区防疫物资储备库"),
    ("N95口罩", "只", "mask", 200, 1200, "爱心企业捐赠"),
    ("医用防护服", "套", "suit", 50, 400, "区防疫物资储备库"),
    ("丁腈手套", "副", "gloves", 300, 3000, "街道调拨"),
    ("红外额温枪", "把", "thermometer", 10, 12, "街道调拨"),
    ("84消毒液", "桶", "disinfectant", 20, 120, "华美超市（采购）"),
    ("抗原检测试剂", "人份", "antigen", 500, 3000, "区卫健委"),
]
CHECKPOINTS = ["东门卡口", "西门卡口"]


def demo_materials(community, admin, *, now=None, log=print) -> None:
    """The demo community's materials data (once per community)."""
    if Item.objects.filter(community=community).exists():
        log(f"{community.code}: materials demo exists, skipped")
        return
    now = now or timezone.now()
    grids = list(Grid.objects.filter(community=community).order_by("pk")[:4])
    teams = [g.name + "工作组" for g in grids] or ["第1网格工作组", "第2网格工作组"]
    volunteer = User.objects.filter(community=community, role=Role.VOLUNTEER).order_by("pk").first()
    with transaction.atomic():
        office = services.location_save(actor=admin, name=OFFICE, kind="office")
        gates = [
            services.location_save(actor=admin, name=n, kind="checkpoint") for n in CHECKPOINTS
        ]
        items = {}
        moved = []
        for name, unit, category, alert, quantity, source in ITEMS:
            item = services.item_save(
                actor=admin, name=name, unit=unit, category=category, low_stock_threshold=alert
            )
            items[category if category not in items else name] = item
            moved.append(
                services.receipt(
                    actor=admin, item=item, location=office, quantity=quantity, reference=source
                ).movement
            )
        masks, suits, gloves = items["mask"], items["suit"], items["gloves"]
        thermo, disinfect, antigen = items["thermometer"], items["disinfectant"], items["antigen"]
        for gate in gates:
            for item, q in ((masks, 1500), (gloves, 400), (suits, 40), (thermo, 3)):
                moved.append(
                    services.transfer(
                        actor=admin, item=item, from_location=office, to_location=gate, quantity=q
                    ).movement
                )
            # A checkpoint must never run out of gloves: its own alert level.
            services.item_save(
                actor=admin,
                item=gloves,
                name=gloves.name,
                unit=gloves.unit,
                category=gloves.category,
                low_stock_threshold=gloves.low_stock_threshold,
                location_thresholds={gate.pk: 100},
            )

        def out(item, place, q, kind, who, user=None):
            moved.append(
                services.issue(
                    actor=admin,
                    item=item,
                    location=place,
                    quantity=q,
                    recipient_kind=kind,
                    recipient_text=who,
                    recipient_user=user,
                ).movement
            )

        for team in teams:
            out(masks, office, 1000, "team", team)
            out(suits, office, 30, "team", team)
            out(antigen, office, 400, "team", team)
            out(disinfect, office, 12, "team", team)
        # Three thermometers to the sampling point leave 9 of 12: below the alert at 10.
        out(thermo, office, 3, "team", "核酸采样点")
        for gate in gates:
            out(masks, gate, 600, "checkpoint", gate.name + "值守")
            out(gloves, gate, 250, "checkpoint", gate.name + "值守")
        if volunteer is not None:
            out(masks, office, 200, "volunteer", "", user=volunteer)
        out(masks, office, 50, "person", "8号楼隔离户代领人")
        # Spread the week: receipts first, then transfers, then the issues.
        for i, m in enumerate(moved):
            at = now - dt.timedelta(days=7) + dt.timedelta(hours=2 * i)
            Movement.objects.filter(pk=m.pk).update(at=min(at, now))
    log(
        f"{community.code}: materials store with {len(ITEMS)} items at {1 + len(gates)} places, "
        f"{len(moved)} movements"
    )
