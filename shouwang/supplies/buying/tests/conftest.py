import pytest
from django.test import Client

from shouwang.supplies.buying.tests.builders import link, make_merchant, make_product, make_window


@pytest.fixture
def client():
    c = Client()
    c.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return c


@pytest.fixture
def merchant(community, personas):
    m = make_merchant(community, contact_name="刘经理", contact_phone="0471-5555 0101")
    link(personas["merchant"], m)
    return m


@pytest.fixture
def products(merchant):
    return {
        "cabbage": make_product(merchant, name="大白菜", price="1.80", unit="斤", stock=50),
        "eggs": make_product(merchant, name="鸡蛋", price="15.00", unit="盒", stock=10, limit=2),
        "box": make_product(
            merchant,
            name="蔬菜包",
            price="39.90",
            unit="份",
            stock=5,
            limit=1,
            is_bundle=True,
            bundle_contents="白菜2斤、土豆2斤、胡萝卜1斤、西红柿1斤",
        ),
    }


@pytest.fixture
def window(merchant):
    return make_window(merchant)
