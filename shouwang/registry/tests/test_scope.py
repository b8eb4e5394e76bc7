"""The scoped getters and list selectors are the security boundary: tested for every persona.

A row of another community is never returned (404 / absent); a grid leader sees only grid A.
What each persona may *do* is capability (see core/tests/test_permission_matrix.py); which rows
they can reach is scope, tested here independently of capability.
"""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser

from shouwang.core import testing as t
from shouwang.core.errors import NotFound
from shouwang.grids.selectors import grid_get_for, grids_for
from shouwang.registry.selectors import (
    community_overview,
    household_get_for,
    households_for,
    resident_get_for,
    resident_search,
    residents_for,
)

COMMUNITY_MEMBERS = ("admin", "staff", "guard", "sampler", "volunteer", "merchant", "resident")
PERSONAS = (*COMMUNITY_MEMBERS, "grid_leader", "district", "outsider", "anonymous")

# What each persona's scope reaches, by fixture key (scope ignores capability on purpose).
ALL_HOUSEHOLDS = {"h1", "h2", "h3", "ho"}
ALL_RESIDENTS = {"r1", "r1b", "r2", "r3", "ro"}
ALL_GRIDS = {"grid_a", "grid_b", "grid_o"}
VISIBLE = {
    **{
        p: ({"h1", "h2", "h3"}, {"r1", "r1b", "r2", "r3"}, {"grid_a", "grid_b"})
        for p in COMMUNITY_MEMBERS
    },
    "grid_leader": ({"h1", "h2"}, {"r1", "r1b", "r2"}, {"grid_a"}),
    "district": (set(), set(), set()),
    "outsider": ({"ho"}, {"ro"}, {"grid_o"}),
    "anonymous": (set(), set(), set()),
}

GARBAGE_IDS = ["abc", "", None, -1, 0, "1; DROP TABLE x", "1.5", 2**63, 10**30, "9" * 40]


@pytest.fixture(autouse=True)
def _fast_hasher(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def rows(ledger, grid_a, grid_b, other_community):
    return {**ledger, "grid_a": grid_a, "grid_b": grid_b, "grid_o": t.make_grid(other_community)}


def _user(personas, persona):
    return AnonymousUser() if persona == "anonymous" else personas[persona]


def _keys(rows, objs, kinds):
    by_pk = {(type(rows[k]), rows[k].pk): k for k in kinds}
    return {by_pk[(type(o), o.pk)] for o in objs}


# --- getters ---------------------------------------------------------------------------------


@pytest.mark.parametrize("persona", PERSONAS)
def test_getters_return_only_rows_in_scope(personas, rows, persona):
    user = _user(personas, persona)
    households, residents, grids = VISIBLE[persona]
    checks = [
        (household_get_for, ALL_HOUSEHOLDS, households),
        (resident_get_for, ALL_RESIDENTS, residents),
        (grid_get_for, ALL_GRIDS, grids),
    ]
    for getter, every, visible in checks:
        for key in sorted(every):
            if key in visible:
                assert getter(user, rows[key].pk).pk == rows[key].pk, (getter.__name__, key)
                # An id sent as text (from a URL or a form) is the same id.
                assert getter(user, str(rows[key].pk)).pk == rows[key].pk
            else:
                with pytest.raises(NotFound):
                    getter(user, rows[key].pk)


@pytest.mark.parametrize("persona", ["admin", "grid_leader", "outsider"])
@pytest.mark.parametrize("getter", [resident_get_for, household_get_for, grid_get_for])
def test_garbage_ids_are_not_found(personas, rows, persona, getter):
    user = personas[persona]
    for bad in GARBAGE_IDS:
        with pytest.raises(NotFound):
            getter(user, bad)


def test_not_found_does_not_say_which_community(personas, rows):
    """The same error for a missing id and for another community's id: no probing."""
    admin = personas["admin"]
    with pytest.raises(NotFound) as theirs:
        resident_get_for(admin, rows["ro"].pk)
    with pytest.raises(NotFound) as missing:
        resident_get_for(admin, 10**9)
    assert theirs.value.as_dict() == missing.value.as_dict()


# --- list selectors --------------------------------------------------------------------------


@pytest.mark.parametrize("persona", PERSONAS)
def test_list_selectors_return_only_rows_in_scope(personas, rows, persona):
    user = _user(personas, persona)
    households, residents, grids = VISIBLE[persona]
    assert _keys(rows, households_for(user), ALL_HOUSEHOLDS) == households
    assert _keys(rows, residents_for(user), ALL_RESIDENTS) == residents
    assert _keys(rows, grids_for(user), ALL_GRIDS) == grids


@pytest.mark.parametrize("persona", PERSONAS)
def test_search_never_crosses_scope(personas, rows, persona):
    user = _user(personas, persona)
    _, residents, _ = VISIBLE[persona]

    def found(q, **kw):
        return _keys(rows, resident_search(user, q=q, **kw), ALL_RESIDENTS)

    # Every name in the fixture, by prefix: 王 matches r1, r1b and ro (other community).
    assert found("王") == residents & {"r1", "r1b", "ro"}
    assert found("") == residents
    # By the other community's phone, in full and by its last four digits.
    assert found("13900003333") == residents & {"ro"}
    assert found("3333") == residents & {"ro"}
    assert found(rows["ro"].id_number) == residents & {"ro"}
    assert found(rows["ro"].id_number[-4:]) >= residents & {"ro"}
    assert found(rows["ro"].id_number[-4:]) <= residents
    # By r3's phone (grid B): the grid leader of grid A must not find it.
    assert found("+8613700002222") == residents & {"r3"}
    # Filters that name another grid or compound do not widen the scope.
    assert found("", grid_id=rows["grid_b"].pk) == residents & {"r3"}
    ho_compound = rows["ho"].building.compound_id
    assert found("", compound_id=ho_compound) == residents & {"ro"}
    assert found("", building_id=rows["ho"].building_id) == residents & {"ro"}


@pytest.mark.parametrize("persona", PERSONAS)
def test_overview_counts_only_rows_in_scope(personas, rows, persona):
    user = _user(personas, persona)
    households, residents, grids = VISIBLE[persona]
    o = community_overview(user)
    assert o["people"] == len(residents)
    assert o["households"] == len(households)
    seen_grids = {g["gid"] for g in o["by_grid"] if g["gid"] is not None}
    # grid_o has no buildings, so nobody's overview has a row for it.
    assert seen_grids == {rows[k].pk for k in grids if k != "grid_o"}
    assert sum(c["people"] for c in o["by_compound"]) == len(residents)
    assert sum(g["people"] for g in o["by_grid"]) == len(residents)


def test_overview_grid_leader_sees_grid_a_only(personas, rows):
    o = community_overview(personas["grid_leader"])
    assert [(g["gid"], g["people"], g["households"]) for g in o["by_grid"]] == [
        (rows["grid_a"].pk, 3, 2)
    ]


# --- through HTTP ----------------------------------------------------------------------------


def test_admin_gets_404_for_a_household_of_another_community(client, personas, rows):
    client.force_login(personas["admin"])
    assert client.get(f"/households/{rows['h1'].pk}/").status_code == 200
    resp = client.get(f"/households/{rows['ho'].pk}/")
    assert resp.status_code == 404
    assert not t.shows_number(resp.content.decode(), "901")


def test_grid_leader_gets_404_for_a_household_of_grid_b(client, personas, rows):
    client.force_login(personas["grid_leader"])
    assert client.get(f"/households/{rows['h1'].pk}/").status_code == 200
    assert client.get(f"/households/{rows['h3'].pk}/").status_code == 404


def test_grid_leader_gets_404_for_grid_b_and_for_residents_outside_grid_a(client, personas, rows):
    client.force_login(personas["grid_leader"])
    assert client.get(f"/api/v1/registry/residents/{rows['r1'].pk}").status_code == 200
    assert client.get(f"/api/v1/registry/residents/{rows['r3'].pk}").status_code == 404
    assert client.get(f"/api/v1/registry/households/{rows['h3'].pk}").status_code == 404
    resp = client.post(
        f"/residents/{rows['r3'].pk}/reveal/", {"field": "phone", "reason": "回访核酸"}
    )
    assert resp.status_code == 404


@pytest.mark.parametrize("persona", ["admin", "staff", "grid_leader"])
def test_grid_page_lists_its_buildings_with_scoped_counts(client, personas, rows, persona):
    client.force_login(personas[persona])
    resp = client.get(f"/grids/{rows['grid_a'].pk}/")
    assert resp.status_code == 200
    buildings = resp.context["buildings"]
    assert [(b["name"], b["household_count"], b["people"]) for b in buildings] == [("1号楼", 2, 3)]


def test_grid_leader_search_page_does_not_list_grid_b(client, personas, rows):
    client.force_login(personas["grid_leader"])
    resp = client.get("/residents/", {"q": "赵"})
    assert resp.status_code == 200
    assert "赵五" not in resp.content.decode()
    client.force_login(personas["admin"])
    assert "赵五" in client.get("/residents/", {"q": "赵"}).content.decode()


def test_api_resident_of_another_community_is_404_with_the_error_shape(client, personas, rows):
    client.force_login(personas["admin"])
    resp = client.get(f"/api/v1/registry/residents/{rows['ro'].pk}")
    assert resp.status_code == 404
    body = resp.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "fields"}
    assert body["error"]["code"] == "not_found"
    assert "王外人" not in resp.content.decode()


@pytest.mark.parametrize("bad", ["-1", "0", str(2**63), "9" * 30])
def test_api_garbage_resident_ids_are_404(client, personas, rows, bad):
    client.force_login(personas["admin"])
    resp = client.get(f"/api/v1/registry/residents/{bad}")
    assert resp.status_code == 404, resp.content
    assert resp.json()["error"]["code"] == "not_found"


def test_api_non_numeric_resident_id_is_refused_without_a_crash(client, personas, rows):
    client.force_login(personas["admin"])
    resp = client.get("/api/v1/registry/residents/abc")
    assert resp.status_code in (400, 404)
    assert "error" in resp.json()


@pytest.mark.parametrize("bad", [str(2**63), "9" * 30])
def test_html_huge_household_ids_are_404(client, personas, rows, bad):
    client.force_login(personas["admin"])
    assert client.get(f"/households/{bad}/").status_code == 404
    assert client.get(f"/grids/{bad}/").status_code == 404
