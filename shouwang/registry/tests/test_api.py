"""The registry API as a script sees it: a Bearer token, JSON, one error shape, masked values."""

from __future__ import annotations

import csv
import io
import json

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from openpyxl import load_workbook

from shouwang.accounts.services import token_create
from shouwang.core import testing as t
from shouwang.core.models import AuditEvent
from shouwang.registry.models import Presence, Resident

RESIDENTS = ("r1", "r1b", "r2", "r3", "ro")
HEADER = "小区,楼栋,单元,门牌号,与户主关系,姓名,身份证号,手机号\n"
FORMULA_STARTS = ("=", "+", "-", "@")
REASON = "核酸漏检，电话回访"


@pytest.fixture(autouse=True)
def _fast_hasher(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def api(client, personas):
    """api("staff").get(path, ...): calls /api/v1<path> with that persona's Bearer token."""

    class Caller:
        def __init__(self, persona):
            self.user = personas[persona]
            self.headers = {"Authorization": f"Bearer {token_create(user=self.user)}"}

        def get(self, path, data=None):
            return client.get("/api/v1" + path, data, headers=self.headers)

        def post(self, path, data=None, **kw):
            return client.post("/api/v1" + path, data, headers=self.headers, **kw)

        def post_json(self, path, data):
            return self.post(path, json.dumps(data), content_type="application/json")

    return Caller


def _secrets(residents) -> list[str]:
    """Every clear-text form of the residents' ID numbers and phones."""
    out = []
    for r in residents:
        out.append(r.id_number)
        if r.phone:
            out += [r.phone, r.phone.removeprefix("+86")]
    return out


def _assert_no_secret(text: str, residents) -> None:
    for secret in _secrets(residents):
        assert secret not in text, f"a full ID number or phone left the server: {secret[:3]}…"


def _people(ledger):
    return [ledger[k] for k in RESIDENTS]


def _error(resp, status: int, code: str) -> dict:
    assert resp.status_code == status, resp.content
    body = resp.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "fields"}
    assert body["error"]["code"] == code, body
    assert body["error"]["message"]
    return body["error"]


# --- who am I --------------------------------------------------------------------------------


def test_me_with_a_bearer_token(api, community):
    resp = api("staff").get("/accounts/me")
    assert resp.status_code == 200
    body = resp.json()
    assert (body["username"], body["role"], body["community_code"]) == (
        "staff",
        "staff",
        community.code,
    )
    assert body["capabilities"] == [
        "access.manage",
        "buying.deliver",
        "buying.manage",
        "buying.order",
        "care.follow",
        "care.manage",
        "care.view",
        "checkpoints.dashboard",
        "checkpoints.duty",
        "checkpoints.guard",
        "checkpoints.manage",
        "checkpoints.paper",
        "checkpoints.roster",
        "control.propose",
        "control.view",
        "directory.manage",
        "helpline.answers",
        "helpline.manage",
        "helpline.sensitive",
        "helpline.stats",
        "helpline.take",
        "ledger.edit",
        "ledger.export",
        "ledger.import",
        "ledger.search",
        "ledger.view",
        "materials.manage",
        "materials.view",
        "medicine.deliver",
        "medicine.manage",
        "medicine.register",
        "notices.manage",
        "passes.manage",
        "passes.scan",
        "queue.call",
        "queue.goods",
        "queue.issue",
        "queue.knock",
        "queue.manage",
        "queue.report",
        "relief.deliver",
        "relief.manage",
        "reveal.phone",
        "screening.antigen",
        "screening.coverage",
        "screening.manage",
        "screening.results",
        "screening.sample",
        "volunteers.manage",
        "volunteers.serve",
        "volunteers.view",
    ]


def test_me_for_a_grid_leader_names_the_grid(api, grid_a):
    assert api("grid_leader").get("/accounts/me").json()["grid"] == grid_a.name


# --- search ----------------------------------------------------------------------------------


@pytest.fixture
def search(api, ledger):
    admin = api("admin")

    def run(q):
        resp = admin.get("/registry/residents", {"q": q})
        assert resp.status_code == 200, resp.content
        # Whatever was asked, and however it matched, nothing comes back unmasked.
        _assert_no_secret(resp.content.decode(), _people(ledger))
        return {r["id"] for r in resp.json()}

    return run


def test_search_by_name_prefix(search, ledger):
    assert search("王") == {ledger["r1"].pk, ledger["r1b"].pk}
    assert search("王小") == {ledger["r1"].pk}
    assert search("小明") == set(), "a prefix, not 'contains'"


def test_search_by_last_four_of_id(search, ledger):
    r1 = ledger["r1"]
    tail = r1.id_number[-4:]
    found = search(tail)
    assert r1.pk in found
    for r in Resident.objects.filter(pk__in=found):
        assert tail in (r.id_tail, r.phone_tail)


def test_search_by_last_four_of_phone(search, ledger):
    assert ledger["r1"].pk in search("5678")
    assert ledger["r2"].pk in search("1111")
    assert ledger["ro"].pk not in search("3333"), "a phone of another community"


@pytest.mark.parametrize("q", ["13912345678", "+86 139-1234-5678", "+8613912345678"])
def test_search_by_full_phone(search, ledger, q):
    assert search(q) == {ledger["r1"].pk}


def test_search_by_full_id_number(search, ledger):
    r1 = ledger["r1"]
    assert search(r1.id_number) == {r1.pk}
    assert search(f"{r1.id_number[:6]} {r1.id_number[6:14]} {r1.id_number[14:]}") == {r1.pk}
    assert search(ledger["ro"].id_number) == set(), "an ID of another community"


def test_search_rows_show_the_masked_values(api, ledger):
    r1 = ledger["r1"]
    resp = api("guard").get("/registry/residents", {"q": "13912345678"})
    [row] = resp.json()
    assert row["phone"] == "139****5678"
    assert row["id_number"] == r1.id_number[:3] + "*" * 11 + r1.id_number[-4:]
    assert row["place"]["door"] == "101"


def test_resident_detail_is_masked(api, ledger):
    resp = api("sampler").get(f"/registry/residents/{ledger['r1'].pk}")
    assert resp.status_code == 200
    assert resp.json()["name"] == "王小明"
    _assert_no_secret(resp.content.decode(), _people(ledger))


# --- reveal ----------------------------------------------------------------------------------


def _reveal(caller, resident, field, reason=REASON):
    return caller.post_json(
        f"/registry/residents/{resident.pk}/reveal", {"field": field, "reason": reason}
    )


def _reveals():
    return AuditEvent.objects.filter(action="resident.reveal")


@pytest.mark.parametrize("reason", ["", "  ", "x"])
def test_reveal_needs_a_reason(api, ledger, reason):
    err = _error(_reveal(api("staff"), ledger["r1"], "phone", reason), 400, "reason_required")
    assert "reason" in err["fields"]
    assert not _reveals().exists()


def test_reveal_without_a_reason_field_names_the_field(api, ledger):
    resp = api("staff").post_json(
        f"/registry/residents/{ledger['r1'].pk}/reveal", {"field": "phone"}
    )
    err = _error(resp, 400, "invalid_input")
    assert "reason" in err["fields"]


def test_staff_may_reveal_a_phone_and_it_is_logged(api, personas, ledger):
    r1 = ledger["r1"]
    resp = _reveal(api("staff"), r1, "phone")
    assert resp.status_code == 200
    assert resp.json() == {"field": "phone", "value": "+8613912345678"}
    [event] = _reveals()
    assert (event.actor, event.field, event.reason) == (personas["staff"], "phone", REASON)
    assert (event.target_id, event.community_id) == (str(r1.pk), r1.community_id)
    _assert_no_secret(event.summary, [r1])


def test_staff_may_not_reveal_an_id_number(api, ledger):
    _error(_reveal(api("staff"), ledger["r1"], "id_number"), 403, "forbidden")
    assert not _reveals().exists()


def test_admin_may_reveal_an_id_number_and_it_is_logged(api, personas, ledger):
    r1 = ledger["r1"]
    resp = _reveal(api("admin"), r1, "id_number")
    assert resp.status_code == 200
    assert resp.json()["value"] == r1.id_number
    [event] = _reveals()
    assert (event.actor, event.field, event.reason) == (personas["admin"], "id_number", REASON)
    _assert_no_secret(event.summary, [r1])


@pytest.mark.parametrize("persona", ["guard", "sampler", "volunteer", "resident"])
def test_roles_without_reveal_are_refused(api, ledger, persona):
    _error(_reveal(api(persona), ledger["r1"], "phone"), 403, "forbidden")
    assert not _reveals().exists()


def test_reveal_outside_scope_is_404_and_not_logged(api, ledger):
    _error(_reveal(api("admin"), ledger["ro"], "id_number"), 404, "not_found")
    _error(_reveal(api("grid_leader"), ledger["r3"], "phone"), 404, "not_found")
    assert not _reveals().exists()


def test_reveal_of_another_field_is_refused(api, ledger):
    _error(_reveal(api("admin"), ledger["r1"], "name"), 400, "field_unknown")


def test_session_reveal_needs_the_csrf_token(personas, ledger):
    """With a session (a browser), a cross-site form must not be able to trigger a reveal."""
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(personas["staff"])
    resp = browser.post(
        f"/api/v1/registry/residents/{ledger['r1'].pk}/reveal",
        json.dumps({"field": "phone", "reason": REASON}),
        content_type="application/json",
    )
    assert resp.status_code == 403
    assert not _reveals().exists()


# --- household and overview ------------------------------------------------------------------


def test_household_detail(api, community, ledger, grid_a):
    h1 = ledger["h1"]
    resp = api("grid_leader").get(f"/registry/households/{h1.pk}")
    assert resp.status_code == 200
    body = resp.json()
    assert body["id"] == h1.pk
    assert body["size"] == 2
    assert body["large"] is False
    assert body["place"] == {
        "compound": "华美小区",
        "building": "1号楼",
        "unit": "1单元",
        "door": "101",
        "grid": grid_a.name,
    }
    assert {m["id"] for m in body["members"]} == {ledger["r1"].pk, ledger["r1b"].pk}
    _assert_no_secret(resp.content.decode(), _people(ledger))

    community.large_household_threshold = 2
    community.save(update_fields=["large_household_threshold"])
    assert api("admin").get(f"/registry/households/{h1.pk}").json()["large"] is True


def _hand_count(ledger, keys, grid=None):
    people = [ledger[k] for k in keys]
    living = [r for r in people if r.presence != Presence.MOVED_OUT]
    if grid is not None:
        living = [r for r in living if r.household.building.grid_id == grid.pk]
    return {
        "people": len(living),
        "present": sum(r.presence == Presence.PRESENT for r in living),
        "away": sum(r.presence == Presence.AWAY for r in living),
        "hospital": sum(r.presence == Presence.HOSPITAL for r in living),
        "households": len({r.household_id for r in living}),
    }


def test_overview_counts_equal_hand_counts(api, community, ledger, grid_a, grid_b):
    for key, presence in [
        ("r2", Presence.AWAY),
        ("r3", Presence.HOSPITAL),
        ("r1b", Presence.MOVED_OUT),
    ]:
        ledger[key].presence = presence
        ledger[key].save(update_fields=["presence"])
    community.large_household_threshold = 2
    community.save(update_fields=["large_household_threshold"])
    mine = ("r1", "r1b", "r2", "r3")

    resp = api("admin").get("/registry/overview")
    assert resp.status_code == 200
    o = resp.json()
    want = _hand_count(ledger, mine)
    assert {k: o[k] for k in ("people", "present", "away", "hospital")} == {
        k: want[k] for k in ("people", "present", "away", "hospital")
    }
    # Households are counted as registered places, lived in or not (h1, h2, h3).
    assert o["households"] == len({ledger[k].pk for k in ("h1", "h2", "h3")})
    assert o["large"] == sum(ledger[k].size >= 2 for k in ("h1", "h2", "h3"))
    assert o["threshold"] == 2
    by_grid = {g["id"]: (g["people"], g["households"]) for g in o["by_grid"]}
    for grid in (grid_a, grid_b):
        hand = _hand_count(ledger, mine, grid)
        assert by_grid[grid.pk] == (hand["people"], hand["households"])
    by_compound = {c["name"]: c["people"] for c in o["by_compound"]}
    assert by_compound == {"华美小区": 2, "新虹公寓": 1}

    gl = api("grid_leader").get("/registry/overview").json()
    hand = _hand_count(ledger, ("r1", "r1b", "r2"))
    assert (gl["people"], gl["away"]) == (hand["people"], hand["away"])
    assert gl["households"] == 2


# --- import ----------------------------------------------------------------------------------


def _csv(tmp_path, name, rows, *, encoding="utf-8"):
    path = tmp_path / name
    path.write_bytes((HEADER + "".join(r + "\n" for r in rows)).encode(encoding))
    return path


def _upload(caller, path, commit=None):
    with open(path, "rb") as fh:
        data = {"file": fh}
        if commit is not None:
            data["commit"] = "true" if commit else "false"
        return caller.post("/registry/import", data)


def test_import_dry_run_then_commit(api, community, ledger, tmp_path):
    head, spouse = t.unique_id(), t.unique_id()
    path = _csv(
        tmp_path,
        "ledger.csv",
        [
            f"华美小区,1号楼,1单元,301,户主,钱一,{head},13811112222",
            f"华美小区,1号楼,1单元,301,配偶,孙二,{spouse},",
        ],
    )
    staff = api("staff")
    before = Resident.objects.filter(community=community).count()

    dry = _upload(staff, path)
    assert dry.status_code == 200, dry.content
    report = dry.json()
    assert (report["data_rows"], report["accepted_rows"], report["rejected_rows"]) == (2, 2, 0)
    assert report["households"] == 1
    assert report["committed"] is False
    assert Resident.objects.filter(community=community).count() == before, "a dry run writes"
    assert head not in dry.content.decode() and spouse not in dry.content.decode()

    done = _upload(staff, path, commit=True)
    assert done.status_code == 200, done.content
    report = done.json()
    assert report["committed"] is True
    assert (report["created"], report["households_created"]) == (2, 1)
    new = Resident.objects.filter(community=community, name__in=["钱一", "孙二"])
    assert new.count() == 2
    assert {r.household.dwelling.door for r in new} == {"301"}
    assert {r.id_number for r in new} == {head, spouse}


def test_import_report_lists_a_bad_id_row(api, ledger, tmp_path):
    good = t.unique_id()
    bad = t.unique_id()
    bad = bad[:-1] + ("0" if bad[-1] != "0" else "1")  # a wrong check digit
    path = _csv(
        tmp_path,
        "ledger.csv",
        [
            f"华美小区,1号楼,1单元,302,户主,周三,{good},",
            f"华美小区,1号楼,1单元,303,户主,吴四,{bad},",
        ],
    )
    resp = _upload(api("admin"), path)
    assert resp.status_code == 200, resp.content
    report = resp.json()
    assert (report["accepted_rows"], report["rejected_rows"]) == (1, 1)
    assert [(p["row"], p["column"], p["code"]) for p in report["rejected"]] == [
        (3, "身份证号", "id_checksum")
    ]


@pytest.mark.parametrize(
    ("name", "content", "codes"),
    [
        ("notes.txt", b"just some notes", {"file_type"}),
        ("ledger.xlsx", b"%PDF-1.4 not a workbook at all" * 10, {"file_type", "file_corrupt"}),
        ("ledger.csv", b"", {"file_empty"}),
    ],
)
def test_import_of_something_that_is_not_a_spreadsheet(api, tmp_path, name, content, codes):
    path = tmp_path / name
    path.write_bytes(content)
    resp = _upload(api("staff"), path)
    assert resp.status_code == 400, resp.content
    assert resp.json()["error"]["code"] in codes


def test_import_needs_the_import_capability(api, tmp_path):
    path = _csv(tmp_path, "ledger.csv", [f"华美小区,1号楼,1单元,301,户主,钱一,{t.unique_id()},"])
    _error(_upload(api("grid_leader"), path, commit=True), 403, "forbidden")
    assert not Resident.objects.filter(name="钱一").exists()


# --- export ----------------------------------------------------------------------------------


@pytest.fixture
def formula_people(ledger):
    return [
        t.make_resident(ledger["h2"], name="=1+1", note="@SUM(A1:A9)", relation="child"),
        t.make_resident(ledger["h2"], name="+cmd", note="-2+3", relation="child", phone=""),
    ]


def _csv_rows(resp):
    assert resp.status_code == 200, resp.content
    assert resp["Content-Type"].startswith("text/csv")
    return list(csv.reader(io.StringIO(resp.content.decode("utf-8-sig"))))


def test_export_csv_is_masked_and_has_no_live_formula(api, ledger, formula_people):
    resp = api("admin").get("/registry/export", {"format": "csv"})
    rows = _csv_rows(resp)
    _assert_no_secret(resp.content.decode("utf-8-sig"), _people(ledger) + formula_people)
    cells = [c for row in rows for c in row]
    assert not [c for c in cells if c.startswith(FORMULA_STARTS)]
    for neutralised in ("'=1+1", "'@SUM(A1:A9)", "'+cmd", "'-2+3"):
        assert neutralised in cells
    names = {row[5] for row in rows[1:]}
    assert names == {"王小明", "王大明", "李四", "赵五", "'=1+1", "'+cmd"}
    assert AuditEvent.objects.filter(action="registry.export").count() == 1


def test_export_xlsx_is_masked_and_has_no_live_formula(api, ledger, formula_people):
    resp = api("staff").get("/registry/export")
    assert resp.status_code == 200
    ws = load_workbook(io.BytesIO(resp.content), read_only=True).worksheets[0]
    cells = [str(c) for row in ws.iter_rows(values_only=True) for c in row if c is not None]
    _assert_no_secret("\n".join(cells), _people(ledger) + formula_people)
    assert not [c for c in cells if c.startswith(FORMULA_STARTS)]
    assert "'=1+1" in cells
    assert ledger["r1"].id_number[:3] + "*" * 11 + ledger["r1"].id_number[-4:] in cells


def test_export_for_a_grid_leader_holds_grid_a_only(api, ledger):
    rows = _csv_rows(api("grid_leader").get("/registry/export", {"format": "csv"}))
    assert {row[5] for row in rows[1:]} == {"王小明", "王大明", "李四"}


def test_full_export_needs_admin_and_a_reason(api, ledger):
    _error(
        api("staff").get("/registry/export", {"format": "csv", "full": "true", "reason": REASON}),
        403,
        "forbidden",
    )
    err = _error(
        api("admin").get("/registry/export", {"format": "csv", "full": "true"}),
        400,
        "reason_required",
    )
    assert "reason" in err["fields"]
    assert not AuditEvent.objects.filter(action__startswith="registry.export").exists()

    resp = api("admin").get("/registry/export", {"format": "csv", "full": "true", "reason": REASON})
    text = resp.content.decode("utf-8-sig")
    _csv_rows(resp)
    assert ledger["r1"].id_number in text
    assert "13912345678" in text
    assert ledger["ro"].id_number not in text, "another community"
    [event] = AuditEvent.objects.filter(action="registry.export.full")
    assert event.reason == REASON
    _assert_no_secret(event.summary, _people(ledger))


def test_export_refuses_an_unknown_format(api):
    _error(api("admin").get("/registry/export", {"format": "pdf"}), 400, "format_unknown")


# --- query counts ----------------------------------------------------------------------------


def _populate(community, grid, prefix, n):
    """n residents spread over buildings, units and households: every relation differs."""
    for i in range(n):
        b = t.make_building(community, f"{prefix}小区{i % 3}", f"{i % 4}号楼", grid=grid)
        h = t.make_household(community, building=b, door=f"{i}", unit=f"{i % 2}单元")
        t.make_resident(h, name=f"{prefix}{i:02d}", phone=f"+86139000{i:05d}")


def test_resident_list_has_no_n_plus_one(api, community, grid_a, django_assert_max_num_queries):
    admin = api("admin")
    admin.get("/accounts/me")  # the token's once-a-minute "last used" write happens here
    _populate(community, grid_a, "甲", 3)
    _populate(community, grid_a, "乙", 30)

    with CaptureQueriesContext(connection) as few:
        assert len(admin.get("/registry/residents", {"q": "甲"}).json()) == 3
    with django_assert_max_num_queries(3):
        resp = admin.get("/registry/residents", {"q": "乙"})
    assert len(resp.json()) == 30
    with CaptureQueriesContext(connection) as many:
        admin.get("/registry/residents", {"q": "乙"})
    assert len(many) == len(few)


def test_household_detail_has_no_n_plus_one(api, community, grid_a, ledger):
    admin = api("admin")
    admin.get("/accounts/me")
    h1 = ledger["h1"]
    with CaptureQueriesContext(connection) as few:
        assert len(admin.get(f"/registry/households/{h1.pk}").json()["members"]) == 2
    for i in range(30):
        t.make_resident(h1, name=f"成员{i}", relation="child", phone="")
    with CaptureQueriesContext(connection) as many:
        assert len(admin.get(f"/registry/households/{h1.pk}").json()["members"]) == 32
    assert len(many) == len(few)


# --- OpenAPI ---------------------------------------------------------------------------------


def test_openapi_document_lists_the_registry_paths(client):
    resp = client.get("/api/v1/openapi.json")
    assert resp.status_code == 200
    doc = resp.json()
    paths = doc["paths"]
    for path, method in [
        ("/api/v1/registry/overview", "get"),
        ("/api/v1/registry/residents", "get"),
        ("/api/v1/registry/residents/{resident_id}", "get"),
        ("/api/v1/registry/residents/{resident_id}/reveal", "post"),
        ("/api/v1/registry/households/{household_id}", "get"),
        ("/api/v1/registry/import", "post"),
        ("/api/v1/registry/export", "get"),
    ]:
        assert method in paths.get(path, {}), f"{method.upper()} {path} missing from OpenAPI"
        assert paths[path][method].get("security"), f"{path} is documented as public"
    assert "BearerToken" in doc["components"]["securitySchemes"]
