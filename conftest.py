"""Fixtures shared by every app's tests. Personas: an admin, a grid leader of grid A, staff, a guard,
a volunteer, a resident, and an outsider from another community."""

import sqlite3

import pytest
from django.db import connection, connections

from shouwang.core import testing as t


@pytest.fixture(autouse=True)
def _queue_texts_in_the_request(settings):
    """Counter presses send their texts after commit in the request, not in a thread, so a test
    reads the SMS outbox as soon as the press returns (test_notify covers the thread)."""
    settings.QUEUE_SMS_BACKGROUND = False


@pytest.fixture
def community(db):
    return t.make_community("HM-T", "华美社区")


@pytest.fixture
def other_community(db):
    return t.make_community("OT-T", "别的社区")


@pytest.fixture
def grid_a(community):
    return t.make_grid(community, "第1网格")


@pytest.fixture
def grid_b(community):
    return t.make_grid(community, "第2网格")


@pytest.fixture
def personas(community, other_community, grid_a):
    from shouwang.registry.models import District, Street

    district = District.objects.create(code="D-T", name="测试区")
    street = Street.objects.create(code="S-T", name="测试街道", district=district)
    community.street = street
    community.save(update_fields=["street"])
    roles = ["admin", "staff", "guard", "sampler", "volunteer", "merchant", "resident"]
    p = {role: t.make_user(role, community, username=role) for role in roles}
    p["grid_leader"] = t.make_user("grid_leader", community, grid=grid_a, username="grid_leader")
    p["district"] = t.make_user("district", None, district=district, username="district")
    p["outsider"] = t.make_user("admin", other_community, username="outsider")
    return p


@pytest.fixture
def ledger(community, other_community, grid_a, grid_b):
    """Two households in grid A, one in grid B, one in another community."""
    ba = t.make_building(community, "华美小区", "1号楼", grid=grid_a)
    bb = t.make_building(community, "新虹公寓", "2号楼", grid=grid_b)
    bo = t.make_building(other_community, "别处小区", "9号楼")
    h1 = t.make_household(community, building=ba, door="101")
    h2 = t.make_household(community, building=ba, door="102")
    h3 = t.make_household(community, building=bb, door="201")
    ho = t.make_household(other_community, building=bo, door="901")
    return {
        "h1": h1,
        "h2": h2,
        "h3": h3,
        "ho": ho,
        "r1": t.make_resident(h1, name="王小明", phone="+8613912345678", id_number=t.valid_id()),
        "r1b": t.make_resident(h1, name="王大明", relation="spouse", phone=""),
        "r2": t.make_resident(h2, name="李四", phone="+8618600001111"),
        "r3": t.make_resident(h3, name="赵五", phone="+8613700002222"),
        "ro": t.make_resident(ho, name="王外人", phone="+8613900003333"),
    }


@pytest.fixture(autouse=True)
def _fast_hasher_and_english(settings):
    """The production hasher costs ~0.5 s per password: tests use a fast one. Messages built
    outside a request are checked in their English source form; pages follow the request's
    language as in production."""
    from django.utils import translation

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    with translation.override("en"):
        yield


@pytest.fixture
def db_file(transactional_db, tmp_path):
    """For tests with many threads at once (see core.testing.run_at_once): the function each
    worker thread calls first, to use the database this test works on. On PostgreSQL, the test
    database. On SQLite the test database lives in memory with a shared cache, where a second
    writer fails at once with "database table is locked" (SQLITE_LOCKED ignores the busy
    timeout) instead of waiting as in production; so it is copied into a file that this thread
    and every worker thread open with the project's own options (IMMEDIATE transactions, the
    busy timeout, WAL)."""
    if connection.vendor != "sqlite":
        yield lambda: None
        return
    connection.ensure_connection()
    target = sqlite3.connect(tmp_path / "concurrency.sqlite3")
    connection.connection.backup(target)
    target.close()
    settings_dict = {**connection.settings_dict, "NAME": str(tmp_path / "concurrency.sqlite3")}
    in_memory = connections["default"]

    def attach():
        connections["default"] = in_memory.__class__(settings_dict, "default")

    attach()
    assert not connection.is_in_memory_db(), "the threads would share the in-memory database"
    try:
        yield attach
    finally:
        connections["default"].close()
        connections["default"] = in_memory
