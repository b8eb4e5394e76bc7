import pytest


@pytest.fixture
def client(client):
    """Pages in English, the language these tests read (the interface is zh-Hans by default)."""
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


@pytest.fixture
def admin2(community):
    """A second committee admin: the other pair of eyes for the admin's own proposals."""
    from shouwang.core import testing as t

    u = t.make_user("admin", community, username="admin2")
    u.display_name = "第二书记"
    u.save(update_fields=["display_name"])
    return u


@pytest.fixture
def places(ledger):
    """The ledger's places: building A (华美小区 1号楼, h1 and h2), its unit and compound;
    building B (新虹公寓 2号楼, h3)."""
    ba, bb = ledger["h1"].building, ledger["h3"].building
    return {
        "ba": ba,
        "bb": bb,
        "unit_a": ledger["h1"].dwelling.unit,
        "compound_a": ba.compound,
        "compound_b": bb.compound,
    }
