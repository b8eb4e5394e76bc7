"""HTML pages: what a community worker sees."""

from shouwang.core import testing as t


def test_household_page_lists_the_other_families_behind_the_door(client, personas, ledger):
    h1 = ledger["h1"]
    neighbour = t.make_household(h1.community, building=h1.building, door=h1.dwelling.door)
    t.make_resident(neighbour, name="租客甲", phone="")
    client.force_login(personas["staff"])
    page = client.get(f"/households/{h1.pk}/")
    assert [d.pk for d in page.context["doors"]] == [h1.pk, neighbour.pk]
    assert "租客甲" in page.content.decode()
    assert page.context["can_edit"] is True
    client.force_login(personas["grid_leader"])
    assert client.get(f"/households/{h1.pk}/").context["can_edit"] is False


def test_search_says_when_there_are_more_than_shown(client, personas, community, grid_a):
    b = t.make_building(community, "华美小区", "8号楼", grid=grid_a)
    h = t.make_household(community, building=b, door="801")
    for i in range(101):
        t.make_resident(h, name=f"陈{i:03d}", phone="", relation="child")
    client.force_login(personas["admin"])
    page = client.get("/residents/", {"q": "陈"})
    assert len(page.context["residents"]) == 100 and page.context["more"] is True
    page = client.get("/residents/", {"building": b.pk, "q": "陈00"})
    assert len(page.context["residents"]) == 10 and page.context["more"] is False


def test_overview_lists_grids_in_their_order(client, personas, community, grid_a):
    grids = [grid_a, t.make_grid(community, "第2网格"), t.make_grid(community, "第10网格")]
    for i, g in enumerate(grids):
        g.sort = i
        g.save(update_fields=["sort"])
        t.make_resident(
            t.make_household(
                community, building=t.make_building(community, "华美小区", f"{i + 1}号楼", grid=g)
            ),
            phone="",
        )
    client.force_login(personas["admin"])
    page = client.get("/overview/")
    names = [row["gname"] for row in page.context["o"]["by_grid"] if row["gname"]]
    assert names == ["第1网格", "第2网格", "第10网格"]


def test_unconfirmed_uploads_are_removed_after_a_day(client, personas, settings, tmp_path):
    import os
    import time

    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.VAR_DIR = tmp_path
    imports = tmp_path / "imports"
    imports.mkdir()
    stale, fresh = imports / "old.csv", imports / "new.csv"
    stale.write_text("x")
    fresh.write_text("x")
    day_ago = time.time() - 25 * 3600
    os.utime(stale, (day_ago, day_ago))
    client.force_login(personas["staff"])
    upload = SimpleUploadedFile(
        "l.csv", "小区,楼栋,单元,门牌号,与户主关系,姓名,身份证号\n".encode()
    )
    resp = client.post("/import/", {"file": upload})
    assert resp.status_code == 200
    assert not stale.exists() and fresh.exists()
    assert len(list(imports.iterdir())) == 2, "the new upload is kept for its confirmation"
