"""The sampling page (views/sampling.py): who may open it, the point it samples at, the station
key it carries for the scan endpoint, the door-to-door list, the person search and the service
worker. The page's JavaScript, offline, is tests/browser/test_sampling.py."""

from __future__ import annotations

import datetime as dt
import json
import re
import uuid

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from shouwang.core.testing import PASSWORD
from shouwang.screening import station
from shouwang.screening.models import (
    PointKind,
    Round,
    Sample,
    SamplingPoint,
    Tube,
    Visit,
    VisitList,
    VisitReason,
)

pytestmark = pytest.mark.django_db


def make_round(community, *, number=1, **kw):
    return Round.objects.create(
        community=community,
        number=number,
        date=timezone.localdate(),
        starts_at=dt.time(7),
        ends_at=dt.time(20),
        **kw,
    )


def make_point(community, name="1号楼下", kind=PointKind.COMPOUND):
    return SamplingPoint.objects.create(
        community=community, name=name, kind=kind, opens_at=dt.time(7), closes_at=dt.time(20)
    )


def client_for(user) -> Client:
    c = Client()
    assert c.login(username=user.username, password=PASSWORD)
    return c


def config_of(resp) -> dict:
    html = resp.content.decode()
    start = html.index('<script id="smp-config" type="application/json">') + len(
        '<script id="smp-config" type="application/json">'
    )
    return json.loads(html[start : html.index("</script>", start)])


def sample_of(rnd, resident, *, tube_code="T1", voided=False):
    tube, _ = Tube.objects.get_or_create(
        round=rnd,
        code=tube_code,
        defaults={"community": rnd.community, "capacity": 10, "opened_at": timezone.now()},
    )
    at = timezone.now().replace(microsecond=0)
    return Sample.objects.create(
        uid=uuid.uuid4(),
        community=rnd.community,
        round=rnd,
        tube=tube,
        resident=resident,
        device_at=at,
        server_at=at,
        voided_at=at if voided else None,
    )


# --- the page -------------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["sampler", "volunteer", "grid_leader", "staff", "admin"])
def test_the_page_carries_a_station_key_for_the_user_round_and_point(personas, community, who):
    rnd = make_round(community, pool_size=20)
    point = make_point(community)
    rnd.points.add(point)
    resp = client_for(personas[who]).get(reverse("screening:sample", args=[rnd.pk]))
    assert resp.status_code == 200
    assert "no-store" in resp["Cache-Control"]
    cfg = config_of(resp)
    st = station.verify(cfg["station"])
    assert (st.user_id, st.community_id, st.round_id, st.point_id) == (
        personas[who].pk,
        community.pk,
        rnd.pk,
        point.pk,
    )
    assert cfg["pool_size"] == 20 and cfg["round"] == rnd.pk and cfg["user"] == personas[who].pk
    assert cfg["urls"]["scan"] == reverse("screening:scan")
    assert cfg["urls"]["batch"] == reverse("screening:scan_batch")
    assert cfg["urls"]["undo"] == reverse("screening:scan_undo")
    assert cfg["urls"]["close"] == reverse("screening:scan_close")
    assert cfg["urls"]["sw"] == "/screening/sw.js"
    body = resp.content.decode()
    assert 'id="smp-input"' in body and "js/sampling.js" in body
    assert "20-in-1" in body or "20" in body


def test_the_key_follows_the_page_language(personas, community):
    rnd = make_round(community)
    c = client_for(personas["sampler"])
    c.cookies["django_language"] = "en"
    resp = c.get(reverse("screening:sample", args=[rnd.pk]), HTTP_ACCEPT_LANGUAGE="en")
    assert station.verify(config_of(resp)["station"]).language == "en"
    assert station.verify(config_of(resp)["station"]).point_id is None  # a round without points


def test_several_points_ask_where_and_point_picks_one(personas, community):
    rnd = make_round(community)
    a, b = make_point(community, "南门"), make_point(community, "北门", PointKind.STREET)
    make_point(community, "别的轮次")  # not a point of this round
    rnd.points.add(a, b)
    c = client_for(personas["sampler"])
    url = reverse("screening:sample", args=[rnd.pk])
    resp = c.get(url)
    assert resp.status_code == 200
    assert b"smp-config" not in resp.content
    body = resp.content.decode()
    assert f"?point={a.pk}" in body and f"?point={b.pk}" in body and "别的轮次" not in body
    resp = c.get(url, {"point": b.pk})
    assert station.verify(config_of(resp)["station"]).point_id == b.pk
    other = make_point(community, "没在这轮")
    assert c.get(url, {"point": other.pk}).status_code == 404
    assert c.get(url, {"point": "x"}).status_code == 404


def test_scoped_to_the_users_community(personas, community, other_community):
    ours = make_round(community)
    theirs = make_round(other_community)
    url = reverse("screening:sample", args=[ours.pk])
    assert client_for(personas["outsider"]).get(url).status_code == 404
    assert (
        client_for(personas["sampler"])
        .get(reverse("screening:sample", args=[theirs.pk]))
        .status_code
        == 404
    )
    assert client_for(personas["guard"]).get(url).status_code == 403
    assert client_for(personas["resident"]).get(url).status_code == 403
    resp = Client().get(url)
    assert resp.status_code == 302 and "/accounts/login/" in resp["Location"]
    assert (
        client_for(personas["sampler"]).get("/screening/rounds/999999/sample/").status_code == 404
    )


def test_a_closed_round_has_no_key_and_no_scanning(personas, community):
    rnd = make_round(community, closed_at=timezone.now())
    resp = client_for(personas["sampler"]).get(reverse("screening:sample", args=[rnd.pk]))
    assert resp.status_code == 200
    assert b"smp-config" not in resp.content and b"sampling.js" not in resp.content
    assert b'id="smp-input"' not in resp.content


def test_door_to_door_lists_the_homes_with_their_buttons(personas, community, ledger):
    rnd = make_round(community)
    vl = VisitList.objects.create(
        community=community, round=rnd, name="卧床老人", reason=VisitReason.BEDRIDDEN
    )
    v1 = Visit.objects.create(visit_list=vl, household=ledger["h1"])
    Visit.objects.create(visit_list=vl, household=ledger["h3"], status=Visit.Status.VISITED)
    c = client_for(personas["sampler"])
    url = reverse("screening:sample", args=[rnd.pk])
    resp = c.get(url, {"visit_list": vl.pk})
    assert resp.status_code == 200
    body = resp.content.decode()
    assert config_of(resp)["visit_list"] == vl.pk
    assert "卧床老人" in body
    assert f'data-visit="{v1.pk}"' in body
    assert reverse("screening:visit_record", args=[v1.pk]) in body
    assert "华美小区 1号楼 1单元 101" in body
    assert "王小*" in body and "王小明" not in body  # the head of household, masked
    for status in ("visited", "not_home", "refused"):
        assert f'data-status="{status}"' in body
    # A list of another round, or of another community: not found.
    other = VisitList.objects.create(
        community=community, round=make_round(community, number=2), name="x", reason="requested"
    )
    assert c.get(url, {"visit_list": other.pk}).status_code == 404
    assert c.get(url, {"visit_list": "abc"}).status_code == 404


# --- find ------------------------------------------------------------------------------------------


def find(user, rnd, q):
    resp = client_for(user).get(reverse("screening:find", args=[rnd.pk]), {"q": q})
    assert resp.status_code == 200, resp.content
    assert resp["Content-Type"] == "application/json"
    return resp.json()["results"]


def test_find_by_name_id_tail_and_phone_with_masked_names(personas, community, ledger):
    rnd = make_round(community)
    sampler = personas["sampler"]
    got = find(sampler, rnd, "王")
    assert [r["name"] for r in got] == ["王大*", "王小*"]
    assert all("王小明" not in json.dumps(r, ensure_ascii=False) for r in got)
    assert got[1] == {
        "resident": ledger["r1"].pk,
        "name": "王小*",
        "household": "华美小区 1号楼 1单元 101",
        "birth_year": got[1]["birth_year"],
        "presence": "",
        "sampled_at": None,
        "id_number": ledger["r1"].id_number_masked,
        "phone": ledger["r1"].phone_masked,
    }
    assert [r["resident"] for r in find(sampler, rnd, ledger["r1"].id_tail)] == [ledger["r1"].pk]
    assert [r["resident"] for r in find(sampler, rnd, "13912345678")] == [ledger["r1"].pk]
    assert [r["resident"] for r in find(sampler, rnd, "2222")] == [ledger["r3"].pk]
    assert find(sampler, rnd, "") == []
    assert find(sampler, rnd, "王外人") == []  # another community's


def test_find_says_who_was_sampled_this_round(personas, community, ledger):
    rnd = make_round(community)
    s = sample_of(rnd, ledger["r1"])
    sample_of(rnd, ledger["r1b"], voided=True)  # undone: not sampled
    sample_of(make_round(community, number=2), ledger["r2"])  # another round
    got = {r["resident"]: r["sampled_at"] for r in find(personas["sampler"], rnd, "王")}
    assert got[ledger["r1b"].pk] is None
    assert dt.datetime.fromisoformat(got[ledger["r1"].pk]) == s.device_at
    assert find(personas["sampler"], rnd, "李")[0]["sampled_at"] is None


def test_find_follows_the_ledger_rules(personas, community, ledger):
    rnd = make_round(community)
    # Volunteers sample but may not search the ledger: names and homes, no ID or phone.
    got = find(personas["volunteer"], rnd, "王小")
    assert got and "id_number" not in got[0] and "phone" not in got[0]
    # A grid leader finds the people of their grid, as in the ledger search.
    assert find(personas["grid_leader"], rnd, "赵") == []
    assert [r["resident"] for r in find(personas["grid_leader"], rnd, "王小")] == [ledger["r1"].pk]


def test_find_is_scoped_and_needs_the_capability(personas, community, other_community, ledger):
    rnd = make_round(community)
    url = reverse("screening:find", args=[rnd.pk])
    assert client_for(personas["outsider"]).get(url, {"q": "王"}).status_code == 404
    assert client_for(personas["guard"]).get(url, {"q": "王"}).status_code == 403
    assert Client().get(url, {"q": "王"}).status_code == 302
    theirs = make_round(other_community)
    resp = client_for(personas["sampler"]).get(
        reverse("screening:find", args=[theirs.pk]), {"q": "王"}
    )
    assert resp.status_code == 404


def test_find_costs_a_fixed_number_of_queries(
    personas, community, ledger, django_assert_max_num_queries
):
    from shouwang.core import testing as t

    rnd = make_round(community)
    for i in range(12):
        h = t.make_household(community, building=ledger["h1"].building, door=f"6{i:02}")
        r = t.make_resident(h, name=f"王{i}号", phone="")
        if i % 2:
            sample_of(rnd, r)
    c = client_for(personas["sampler"])
    url = reverse("screening:find", args=[rnd.pk])
    with django_assert_max_num_queries(8):
        resp = c.get(url, {"q": "王"})
    assert len(resp.json()["results"]) == 14


# --- the service worker ------------------------------------------------------------------------------


def test_the_service_worker_is_served_under_screening(personas):
    resp = Client().get("/screening/sw.js")
    assert resp.status_code == 200
    assert resp["Content-Type"].startswith("text/javascript")
    assert resp["Cache-Control"] == "no-cache"
    body = resp.content.decode()
    first, rest = body.split("\n", 1)
    assert first.startswith('const VERSION = "') and len(first) == len('const VERSION = "";') + 12
    assert 'addEventListener("fetch"' in rest
    # The pages it answers for are the sampling pages, and only they.
    page = re.search(r"var PAGE = /(.+)/;", rest).group(1).replace("\\/", "/")
    assert re.match(page, reverse("screening:sample", args=[12]))
    assert not re.match(page, reverse("screening:round", args=[12]))
    assert not re.match(page, reverse("screening:find", args=[12]))
    # The same file, the same version: a browser installs a new worker only on a change.
    assert Client().get("/screening/sw.js").content == resp.content
    assert client_for(personas["sampler"]).get("/screening/sw.js").content == resp.content
    assert Client().post("/screening/sw.js").status_code == 405
