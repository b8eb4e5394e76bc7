"""Notices to residents: published by admins and staff for the whole community, a compound, a
building or a grid, withdrawn, and shown on exactly the household pages they are meant for."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from shouwang.core.models import AuditEvent
from shouwang.residents import services
from shouwang.residents.models import Notice
from shouwang.residents.sections import notices_for


@pytest.fixture
def en():
    c = Client()
    c.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return c


@pytest.fixture
def places(ledger, grid_a, grid_b):
    ba = ledger["h1"].building
    bb = ledger["h3"].building
    return {
        "ba": ba,
        "bb": bb,
        "bo": ledger["ho"].building,
        "ca": ba.compound,  # 华美小区: h1, h2
        "cb": bb.compound,  # 新虹公寓: h3
        "co": ledger["ho"].building.compound,
        "ga": grid_a,
        "gb": grid_b,
    }


def notice(community, title, **kw):
    return Notice.objects.create(community=community, title=title, body=f"{title} body", **kw)


def titles(household) -> set[str]:
    return {n.title for n in notices_for(household)}


def publish(client, scope, title="核酸检测通知", **extra):
    data = {"title": title, "body": "明早7点在小区门口排队。", "scope": scope, "expires_at": ""}
    data.update(extra)
    return client.post("/notices/", data)


# --- who sees what ----------------------------------------------------------------------------


@pytest.fixture
def scoped_notices(community, other_community, places):
    past = timezone.now() - timedelta(hours=1)
    future = timezone.now() + timedelta(days=2)
    return {
        "all": notice(community, "all"),
        "compound_a": notice(community, "compound_a", compound=places["ca"]),
        "compound_b": notice(community, "compound_b", compound=places["cb"]),
        "building_a": notice(community, "building_a", building=places["ba"]),
        "building_b": notice(community, "building_b", building=places["bb"]),
        "grid_a": notice(community, "grid_a", grid=places["ga"]),
        "grid_b": notice(community, "grid_b", grid=places["gb"]),
        "future": notice(community, "future", expires_at=future),
        "expired": notice(community, "expired", expires_at=past),
        "expired_building_a": notice(
            community, "expired_building_a", building=places["ba"], expires_at=past
        ),
        "withdrawn": notice(community, "withdrawn", withdrawn_at=past),
        "withdrawn_grid_a": notice(
            community, "withdrawn_grid_a", grid=places["ga"], withdrawn_at=past
        ),
        "other": notice(other_community, "other"),
        "other_building": notice(other_community, "other_building", building=places["bo"]),
    }


def test_households_see_exactly_the_notices_of_their_scope(ledger, scoped_notices):
    common = {"all", "future"}
    assert titles(ledger["h1"]) == common | {"compound_a", "building_a", "grid_a"}
    assert titles(ledger["h2"]) == common | {"compound_a", "building_a", "grid_a"}
    assert titles(ledger["h3"]) == common | {"compound_b", "building_b", "grid_b"}
    assert titles(ledger["ho"]) == {"other", "other_building"}


def test_a_building_without_grid_sees_no_grid_notices(community, ledger, places):
    from shouwang.core import testing as t

    loose = t.make_building(community, "华美小区", "3号楼")
    assert loose.grid_id is None
    h = t.make_household(community, building=loose, door="301")
    notice(community, "grid_a", grid=places["ga"])
    notice(community, "compound_a", compound=places["ca"])
    notice(community, "building_a", building=places["ba"])
    assert titles(h) == {"compound_a"}


def test_notices_newest_first_and_limited(community, ledger):
    now = timezone.now()
    for i in range(12):
        n = notice(community, f"n{i:02d}")
        Notice.objects.filter(pk=n.pk).update(published_at=now - timedelta(minutes=60 - i))
    got = [n.title for n in notices_for(ledger["h1"])]
    assert got == [f"n{i:02d}" for i in range(11, 1, -1)]
    assert [n.title for n in notices_for(ledger["h1"], limit=3)] == ["n11", "n10", "n09"]


def test_expiry_is_checked_at_the_moment_of_viewing(community, ledger):
    n = notice(community, "soon", expires_at=timezone.now() + timedelta(seconds=30))
    assert titles(ledger["h1"]) == {"soon"}
    Notice.objects.filter(pk=n.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert titles(ledger["h1"]) == set()


def test_household_page_shows_its_notices(en, personas, ledger, scoped_notices):
    _link, token = services.link_issue(actor=personas["staff"], household=ledger["h1"])
    en.get(f"/h/{token}/")
    resp = en.get(f"/my/households/{ledger['h1'].pk}/")
    assert resp.status_code == 200
    s = next(s for s in resp.context["sections"] if s["key"] == "notices")
    assert {n.title for n in s["notices"]} == {
        "all",
        "future",
        "compound_a",
        "building_a",
        "grid_a",
    }
    html = resp.content.decode()
    assert 'id="notices"' in html
    assert "building_a body" in html
    for hidden in ("building_b", "grid_b", "expired", "withdrawn", "other"):
        assert f">{hidden}<" not in html
        assert f"{hidden} body" not in html


def test_household_page_without_notices(en, personas, ledger):
    _link, token = services.link_issue(actor=personas["staff"], household=ledger["h3"])
    en.get(f"/h/{token}/")
    resp = en.get(f"/my/households/{ledger['h3'].pk}/")
    s = next(s for s in resp.context["sections"] if s["key"] == "notices")
    assert s["notices"] == []
    assert "No notices at the moment." in resp.content.decode()


# --- publishing -------------------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["admin", "staff"])
def test_publish_for_the_whole_community(en, personas, community, ledger, persona):
    en.force_login(personas[persona])
    assert en.get("/notices/").status_code == 200
    resp = publish(en, "all", title="  全体居民请注意  ")
    assert resp.status_code == 302 and resp["Location"] == "/notices/"
    n = Notice.objects.get()
    assert n.community == community and n.title == "全体居民请注意"
    assert n.compound is None and n.building is None and n.grid is None
    assert n.created_by == personas[persona]
    assert n.expires_at is None and n.withdrawn_at is None
    assert {h: titles(ledger[h]) for h in ("h1", "h2", "h3", "ho")} == {
        "h1": {n.title},
        "h2": {n.title},
        "h3": {n.title},
        "ho": set(),
    }
    ev = AuditEvent.objects.get(action="notice.publish")
    assert ev.target_id == str(n.pk) and ev.community_id == community.pk


def test_publish_for_a_compound(en, personas, ledger, places):
    en.force_login(personas["staff"])
    assert publish(en, f"compound:{places['cb'].pk}", title="新虹").status_code == 302
    n = Notice.objects.get()
    assert n.compound == places["cb"] and n.building is None and n.grid is None
    assert titles(ledger["h3"]) == {"新虹"}
    assert titles(ledger["h1"]) == set() and titles(ledger["h2"]) == set()


def test_publish_for_a_building(en, personas, ledger, places):
    en.force_login(personas["staff"])
    assert publish(en, f"building:{places['ba'].pk}", title="1号楼").status_code == 302
    n = Notice.objects.get()
    assert n.building == places["ba"] and n.compound is None and n.grid is None
    assert titles(ledger["h1"]) == {"1号楼"} and titles(ledger["h2"]) == {"1号楼"}
    assert titles(ledger["h3"]) == set()


def test_publish_for_a_grid(en, personas, ledger, places):
    en.force_login(personas["admin"])
    assert publish(en, f"grid:{places['gb'].pk}", title="第2网格").status_code == 302
    n = Notice.objects.get()
    assert n.grid == places["gb"] and n.compound is None and n.building is None
    assert titles(ledger["h3"]) == {"第2网格"}
    assert titles(ledger["h1"]) == set()


def test_publish_with_an_end(en, personas, ledger):
    en.force_login(personas["staff"])
    until = (timezone.localtime() + timedelta(days=1)).replace(second=0, microsecond=0)
    resp = publish(en, "all", expires_at=until.strftime("%Y-%m-%dT%H:%M"))
    assert resp.status_code == 302
    n = Notice.objects.get()
    assert n.expires_at == until
    assert titles(ledger["h1"]) == {n.title}


def test_the_form_offers_every_scope(en, personas, places):
    en.force_login(personas["staff"])
    form = en.get("/notices/").context["form"]
    values = {v for v, _label in form.fields["scope"].choices}
    assert values == {
        "all",
        f"compound:{places['ca'].pk}",
        f"compound:{places['cb'].pk}",
        f"building:{places['ba'].pk}",
        f"building:{places['bb'].pk}",
        f"grid:{places['ga'].pk}",
        f"grid:{places['gb'].pk}",
    }


@pytest.mark.parametrize(
    "data, key",
    [
        ({"title": ""}, "title"),
        ({"body": ""}, "body"),
        ({"title": "x" * 81}, "title"),
        ({"scope": "nowhere"}, "scope"),
        ({"scope": "building:999999"}, "scope"),
        ({"scope": "other_building"}, "scope"),
        ({"scope": "other_compound"}, "scope"),
        ({"expires_at": "next week"}, "expires_at"),
    ],
)
def test_publish_errors(en, personas, places, data, key):
    en.force_login(personas["staff"])
    data = dict(data)
    if data.get("scope") == "other_building":
        data["scope"] = f"building:{places['bo'].pk}"
    if data.get("scope") == "other_compound":
        data["scope"] = f"compound:{places['co'].pk}"
    resp = publish(en, data.pop("scope", "all"), **data)
    assert resp.status_code == 200
    assert key in resp.context["form"].errors
    assert not Notice.objects.exists()


# --- withdrawing ------------------------------------------------------------------------------


def test_withdraw(en, personas, community, ledger):
    en.force_login(personas["staff"])
    n = notice(community, "to withdraw")
    assert titles(ledger["h1"]) == {"to withdraw"}
    assert en.get(f"/notices/{n.pk}/withdraw/").status_code == 405
    resp = en.post(f"/notices/{n.pk}/withdraw/")
    assert resp.status_code == 302 and resp["Location"] == "/notices/"
    n.refresh_from_db()
    first = n.withdrawn_at
    assert first is not None
    assert titles(ledger["h1"]) == set()
    # Twice: nothing changes, one audit row.
    en.post(f"/notices/{n.pk}/withdraw/")
    n.refresh_from_db()
    assert n.withdrawn_at == first
    assert AuditEvent.objects.filter(action="notice.withdraw").count() == 1
    # Still listed for staff, marked withdrawn, without a withdraw button.
    resp = en.get("/notices/")
    assert n in list(resp.context["items"])
    assert f"/notices/{n.pk}/withdraw/" not in resp.content.decode()


# --- who may --------------------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["grid_leader", "volunteer", "guard", "resident"])
def test_other_roles_are_refused(en, personas, community, places, persona):
    n = notice(community, "keep")
    en.force_login(personas[persona])
    assert en.get("/notices/").status_code == 403
    assert publish(en, "all").status_code == 403
    assert publish(en, f"grid:{places['ga'].pk}").status_code == 403
    assert en.post(f"/notices/{n.pk}/withdraw/").status_code == 403
    assert Notice.objects.count() == 1
    n.refresh_from_db()
    assert n.withdrawn_at is None


def test_anonymous_is_sent_to_sign_in(en, db):
    resp = en.get("/notices/")
    assert resp.status_code == 302 and "/accounts/login/" in resp["Location"]


def test_outsider_sees_and_withdraws_only_its_own(en, personas, community, other_community, places):
    ours = notice(community, "ours")
    theirs = notice(other_community, "theirs")
    en.force_login(personas["outsider"])
    resp = en.get("/notices/")
    assert resp.status_code == 200
    assert [n.title for n in resp.context["items"]] == ["theirs"]
    assert {v for v, _ in resp.context["form"].fields["scope"].choices} == {
        "all",
        f"compound:{places['co'].pk}",
        f"building:{places['bo'].pk}",
    }
    assert en.post(f"/notices/{ours.pk}/withdraw/").status_code == 404
    ours.refresh_from_db()
    assert ours.withdrawn_at is None
    assert en.post(f"/notices/{theirs.pk}/withdraw/").status_code == 302
    theirs.refresh_from_db()
    assert theirs.withdrawn_at is not None


def test_outsider_publishes_in_its_own_community(en, personas, other_community, ledger):
    en.force_login(personas["outsider"])
    assert publish(en, "all", title="别处").status_code == 302
    n = Notice.objects.get()
    assert n.community == other_community
    assert titles(ledger["ho"]) == {"别处"}
    assert titles(ledger["h1"]) == set()


def test_staff_list_shows_only_this_community(en, personas, community, other_community):
    notice(community, "ours")
    notice(other_community, "theirs")
    en.force_login(personas["staff"])
    resp = en.get("/notices/")
    assert [n.title for n in resp.context["items"]] == ["ours"]
    assert "theirs" not in resp.content.decode()
