"""Fixtures of the materials tests: an office and a checkpoint of the fixture community, masks and
gloves, and a client asking for English pages."""

import pytest
from django.test import Client

from shouwang.supplies.materials import services


@pytest.fixture
def client():
    c = Client()
    c.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return c


@pytest.fixture
def admin(personas):
    return personas["admin"]


@pytest.fixture
def office(admin):
    return services.location_save(actor=admin, name="社区办公室", kind="office")


@pytest.fixture
def gate(admin):
    return services.location_save(actor=admin, name="东门卡口", kind="checkpoint")


@pytest.fixture
def masks(admin, office, gate):
    return services.item_save(
        actor=admin, name="医用外科口罩", unit="pcs", category="mask", low_stock_threshold=500
    )


@pytest.fixture
def gloves(admin, office, gate):
    return services.item_save(actor=admin, name="丁腈手套", unit="pairs", category="gloves")


def stock_of(item, location) -> int:
    from shouwang.supplies.materials.models import Stock

    return Stock.objects.get(item=item, location=location).quantity
