"""The demo store: Dongtian's 15,000 masks received at the office, two stocked checkpoints,
issues to teams, checkpoints and a volunteer, exactly one item below its alert level; built once."""

import pytest

from shouwang.core.testing import make_user
from shouwang.supplies.materials.demo import demo_materials
from shouwang.supplies.materials.models import Location, Movement, Stock
from shouwang.supplies.materials.selectors import low_stock

pytestmark = pytest.mark.django_db


def test_demo_store(community, grid_a, grid_b, personas):
    admin = personas["admin"]
    logged = []
    demo_materials(community, admin, log=logged.append)
    assert Location.objects.filter(community=community, kind="checkpoint").count() == 2
    receipt = Movement.objects.get(kind="receipt", item__name="医用外科口罩")
    assert receipt.quantity == 15000 and receipt.to_location.name == "社区办公室"
    kinds = set(Movement.objects.filter(kind="issue").values_list("recipient_kind", flat=True))
    assert kinds == {"team", "checkpoint", "volunteer", "person"}
    assert [r.item.name for r in low_stock(community.pk)] == ["红外额温枪"]
    assert not Stock.objects.filter(quantity__lt=0).exists()
    n = Movement.objects.count()
    demo_materials(community, admin, log=logged.append)
    assert Movement.objects.count() == n and "skipped" in logged[-1]


def test_demo_without_grids_or_volunteers(other_community):
    admin = make_user("admin", other_community, username="other-admin")
    demo_materials(other_community, admin, log=lambda *_: None)
    assert [r.item.name for r in low_stock(other_community.pk)] == ["红外额温枪"]
