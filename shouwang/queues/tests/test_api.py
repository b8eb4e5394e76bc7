"""The queue API (/api/v1/queue/): days, taking a ticket for a household, the counter and the
report — each with its permission matrix, scoping and error shape."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from shouwang.accounts.services import token_create
from shouwang.queues import services
from shouwang.queues.models import Registration, SaleDay, Ticket

Q = "/api/v1/queue"


@pytest.fixture
def api(client, personas):
    """api("staff").get(path) / .post(path, body): JSON with that persona's bearer token."""

    class Caller:
        def __init__(self, persona):
            self.headers = {
                "Authorization": f"Bearer {token_create(user=personas[persona])}",
                "Accept-Language": "en",
            }

        def get(self, path, params=None):
            return client.get(Q + path, params or {}, headers=self.headers)

        def post(self, path, body=None):
            data = "" if body is None else json.dumps(body)
            return client.post(
                Q + path, data, content_type="application/json", headers=self.headers
            )

    return Caller


def make_day(actor, *, tickets_total=300, mode="first_come", point=None, date=None, **kw):
    """A day taking tickets around now, selling for 4 hours from an hour ago (or from just after
    midnight: a day's date is its sale's local date); `date` moves it by whole days."""
    date = date or timezone.localdate()
    now = timezone.now() + dt.timedelta(days=(date - timezone.localdate()).days)
    midnight = timezone.make_aware(dt.datetime.combine(date, dt.time(0, 1)))
    starts = max(now - dt.timedelta(hours=1), midnight)
    point = point or services.point_save(actor=actor, name="松林超市 三村摊位", location="小广场")
    fields = {
        "take_opens_at": now - dt.timedelta(hours=2),
        "take_closes_at": now + dt.timedelta(hours=4),
        "sale_starts_at": starts,
        "sale_ends_at": starts + dt.timedelta(hours=4),
        "tickets_total": tickets_total,
        "mode": mode,
        **kw,
    }
    return services.day_create(actor=actor, point=point, **fields)


def _error(resp, status: int, code: str) -> dict:
    assert resp.status_code == status, resp.content
    body = resp.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "fields"}
    assert body["error"]["code"] == code, body
    assert body["error"]["message"]
    return body["error"]


@pytest.fixture
def day(personas):
    return make_day(personas["staff"])


@pytest.fixture
def other_day(personas):
    return make_day(personas["outsider"])


# --- days -----------------------------------------------------------------------------------


def test_days_list_is_scoped_and_filtered(api, personas, day, other_day):
    tomorrow = make_day(
        personas["staff"], point=day.point, date=timezone.localdate() + dt.timedelta(days=1)
    )
    rows = api("staff").get("/days").json()
    assert [r["id"] for r in rows] == [tomorrow.pk, day.pk]
    assert rows[1]["point"]["name"] == "松林超市 三村摊位" and rows[1]["left"] == 300
    assert set(rows[1]) >= {"date", "mode", "issued", "tickets_total", "closed", "version"}
    only = api("staff").get("/days", {"date": timezone.localdate().isoformat()}).json()
    assert [r["id"] for r in only] == [day.pk]
    assert api("staff").get("/days", {"point_id": day.point_id + 999}).json() == []
    assert [r["id"] for r in api("outsider").get("/days").json()] == [other_day.pk]


@pytest.mark.parametrize(
    "role,status",
    [
        ("admin", 200),
        ("staff", 200),
        ("grid_leader", 200),
        ("volunteer", 200),
        ("guard", 403),
        ("sampler", 403),
        ("merchant", 403),
        ("resident", 403),
        ("district", 403),
    ],
)
def test_days_permission_matrix(api, day, role, status):
    resp = api(role).get("/days")
    assert resp.status_code == status
    resp = api(role).get(f"/days/{day.pk}")
    assert resp.status_code == status
    if status == 403:
        _error(resp, 403, "forbidden")


def test_unauthenticated_is_401(client, day):
    for path in ("/days", f"/days/{day.pk}", f"/days/{day.pk}/report"):
        _error(client.get(Q + path), 401, "unauthenticated")
    _error(
        client.post(Q + f"/days/{day.pk}/call", "{}", content_type="application/json"),
        401,
        "unauthenticated",
    )


def test_days_list_has_no_n_plus_one(api, personas, day):
    staff = api("staff")
    staff.get("/days")  # the token's "last used" write happens on first use
    with CaptureQueriesContext(connection) as few:
        assert len(staff.get("/days").json()) == 1
    for i in range(5):
        make_day(personas["staff"], date=timezone.localdate() - dt.timedelta(days=i + 1))
    with CaptureQueriesContext(connection) as many:
        assert len(staff.get("/days").json()) == 6
    assert len(many) == len(few)


def test_day_detail(api, day):
    body = api("volunteer").get(f"/days/{day.pk}").json()
    assert body["id"] == day.pk and body["come_when"] == 10 and body["per_household"] == 1
    assert body["public_url"].endswith(f"/q/{day.public_key}/")
    assert body["draw_seed"] is None and len(body["draw_seed_hash"]) == 64
    state = body["state"]
    assert state["left"] == 300 and state["serving"] == [] and state["total"] == 300
    assert "number" not in state


def test_day_of_another_community_is_404(api, other_day):
    _error(api("staff").get(f"/days/{other_day.pk}"), 404, "not_found")
    _error(api("staff").get("/days/999999"), 404, "not_found")
    _error(api("staff").get(f"/days/{other_day.pk}/report"), 404, "not_found")
    _error(api("staff").post(f"/days/{other_day.pk}/call", {"action": "next"}), 404, "not_found")


def test_day_detail_runs_a_draw_that_is_due(api, personas, ledger):
    now = timezone.now()
    day = make_day(
        personas["staff"],
        mode="draw",
        tickets_total=5,
        take_opens_at=now - dt.timedelta(hours=3),
        draw_at=now - dt.timedelta(hours=1),
    )
    services.ticket_take(day=day, household=ledger["h1"], now=now - dt.timedelta(hours=2))
    body = api("staff").get(f"/days/{day.pk}").json()
    assert body["drawn_at"] is not None and body["draw_seed"] == day.draw_seed
    assert body["issued"] == 1 and body["registered"] == 1


# --- taking a ticket ------------------------------------------------------------------------


def test_take_a_ticket_is_idempotent(api, day, ledger):
    staff = api("staff")
    resp = staff.post(f"/days/{day.pk}/tickets", {"household_id": ledger["h1"].pk})
    assert resp.status_code == 201
    body = resp.json()
    t1 = Ticket.objects.get(day=day, household=ledger["h1"])
    assert body == {
        "created": True,
        "kind": "ticket",
        "ticket_id": t1.pk,
        "number": 1,
        "registration_code": None,
        "status": "waiting",
        "follow_url": f"http://testserver/q/t/{t1.follow_key}/",
    }
    assert t1.channel == "staff" and t1.taken_by.username == "staff"
    again = staff.post(f"/days/{day.pk}/tickets", {"household_id": ledger["h1"].pk})
    assert again.status_code == 200
    assert again.json()["number"] == 1 and again.json()["created"] is False
    second = staff.post(f"/days/{day.pk}/tickets", {"household_id": ledger["h2"].pk})
    assert second.status_code == 201 and second.json()["number"] == 2
    assert SaleDay.objects.get(pk=day.pk).issued == 2


def test_take_with_a_text_message(api, day, ledger):
    bad = api("staff").post(
        f"/days/{day.pk}/tickets",
        {"household_id": ledger["h1"].pk, "notify": "sms", "sms_phone": "12345"},
    )
    err = _error(bad, 400, "invalid")
    assert "sms_phone" in err["fields"]
    assert not Ticket.objects.exists()
    ok = api("staff").post(
        f"/days/{day.pk}/tickets",
        {"household_id": ledger["h1"].pk, "notify": "sms", "sms_phone": "139 1234 5678"},
    )
    assert ok.status_code == 201
    tk = Ticket.objects.get()
    assert tk.notify == "sms" and tk.sms_phone_masked == "139****5678"
    assert "13912345678" not in json.dumps(ok.json())
    missing = api("staff").post(
        f"/days/{day.pk}/tickets", {"household_id": ledger["h2"].pk, "notify": "sms"}
    )
    assert _error(missing, 400, "invalid")["fields"].keys() == {"sms_phone"}
    _error(
        api("staff").post(
            f"/days/{day.pk}/tickets", {"household_id": ledger["h2"].pk, "notify": "pigeon"}
        ),
        400,
        "invalid_input",
    )


@pytest.mark.parametrize(
    "role,status",
    [
        ("admin", 201),
        ("staff", 201),
        ("grid_leader", 201),
        ("volunteer", 403),
        ("guard", 403),
        ("resident", 403),
        ("outsider", 404),
    ],
)
def test_take_permission_matrix(api, day, ledger, role, status):
    resp = api(role).post(f"/days/{day.pk}/tickets", {"household_id": ledger["h1"].pk})
    assert resp.status_code == status, resp.content
    assert Ticket.objects.count() == (1 if status == 201 else 0)


def test_take_scopes_the_household(api, day, ledger):
    # Grid leader of grid A: a grid B household is not theirs.
    _error(
        api("grid_leader").post(f"/days/{day.pk}/tickets", {"household_id": ledger["h3"].pk}),
        404,
        "not_found",
    )
    _error(
        api("staff").post(f"/days/{day.pk}/tickets", {"household_id": ledger["ho"].pk}),
        404,
        "not_found",
    )
    assert not Ticket.objects.exists()


def test_take_refusals(api, personas, ledger, community):
    point = services.point_save(
        actor=personas["staff"],
        name="只服务华美小区",
        compounds=[ledger["h1"].building.compound_id],
    )
    day = make_day(personas["staff"], tickets_total=1, point=point)
    _error(
        api("staff").post(f"/days/{day.pk}/tickets", {"household_id": ledger["h3"].pk}),
        403,
        "not_served",
    )
    assert (
        api("staff").post(f"/days/{day.pk}/tickets", {"household_id": ledger["h1"].pk}).status_code
        == 201
    )
    _error(
        api("staff").post(f"/days/{day.pk}/tickets", {"household_id": ledger["h2"].pk}),
        409,
        "sold_out",
    )


def test_take_before_a_draw_registers(api, personas, ledger):
    now = timezone.now()
    day = make_day(personas["staff"], mode="draw", draw_at=now + dt.timedelta(hours=1))
    resp = api("staff").post(f"/days/{day.pk}/tickets", {"household_id": ledger["h1"].pk})
    assert resp.status_code == 201
    body = resp.json()
    r = Registration.objects.get()
    assert body["kind"] == "registration" and body["registration_code"] == r.code == 1
    assert body["number"] is None and body["ticket_id"] is None and body["status"] == "registered"
    assert body["follow_url"].endswith(f"/q/t/{r.follow_key}/")


# --- the counter ----------------------------------------------------------------------------


@pytest.fixture
def three(day, ledger):
    return [services.ticket_take(day=day, household=ledger[k]).ticket for k in ("h1", "h2", "h3")]


def _version(day) -> int:
    return SaleDay.objects.get(pk=day.pk).version


def test_call_next_serve_next_recall_serve_undo(api, day, three):
    v = api("volunteer")
    resp = v.post(f"/days/{day.pk}/call", {"action": "next", "version": _version(day)})
    assert resp.status_code == 200, resp.content
    body = resp.json()
    assert body["ticket"] == {"id": three[0].pk, "number": 1, "status": "called"}
    assert body["state"]["serving"] == [1] and body["version"] == _version(day)
    body = v.post(f"/days/{day.pk}/call", {"action": "serve_next"}).json()
    assert body["ticket"]["number"] == 2 and body["state"]["served"] == 1
    assert Ticket.objects.get(pk=three[0].pk).status == "served"
    body = v.post(f"/days/{day.pk}/call", {"action": "recall", "ticket_id": three[1].pk}).json()
    assert body["ticket"]["number"] == 2 and Ticket.objects.get(pk=three[1].pk).call_count == 2
    body = v.post(f"/days/{day.pk}/call", {"action": "serve", "ticket_id": three[1].pk}).json()
    assert body["ticket"] == {"id": three[1].pk, "number": 2, "status": "served"}
    body = v.post(f"/days/{day.pk}/call", {"action": "undo"}).json()
    assert body["ticket"]["number"] == 2 and body["ticket"]["status"] == "called"
    assert body["state"]["serving"] == [2]


def test_stale_version_is_409_and_changes_nothing(api, day, three):
    v = api("volunteer")
    seen = _version(day)
    assert v.post(f"/days/{day.pk}/call", {"action": "next", "version": seen}).status_code == 200
    # The same press again (a double tap, or a second volunteer with the old screen).
    _error(v.post(f"/days/{day.pk}/call", {"action": "next", "version": seen}), 409, "stale")
    assert list(Ticket.objects.filter(status="called").values_list("number", flat=True)) == [1]
    assert _version(day) == seen + 1


def test_skip_before_the_grace_time_and_other_refusals(api, day, three, other_day, ledger):
    v = api("staff")
    _error(v.post(f"/days/{day.pk}/call", {"action": "serve"}), 409, "none_called")
    v.post(f"/days/{day.pk}/call", {"action": "next"})
    _error(v.post(f"/days/{day.pk}/call", {"action": "skip"}), 409, "grace")
    Ticket.objects.filter(pk=three[0].pk).update(
        called_at=timezone.now() - dt.timedelta(seconds=day.grace_seconds + 1)
    )
    body = v.post(f"/days/{day.pk}/call", {"action": "skip", "ticket_id": three[0].pk}).json()
    assert body["ticket"]["status"] == "waiting"  # back of the queue once
    _error(
        v.post(f"/days/{day.pk}/call", {"action": "serve", "ticket_id": three[1].pk}),
        409,
        "not_called",
    )
    elsewhere = services.ticket_take(day=other_day, household=ledger["ho"]).ticket
    _error(
        v.post(f"/days/{day.pk}/call", {"action": "recall", "ticket_id": elsewhere.pk}),
        404,
        "not_found",
    )
    _error(v.post(f"/days/{day.pk}/call", {"action": "jump"}), 400, "invalid_input")


def test_next_with_nobody_waiting(api, day):
    body = api("staff").post(f"/days/{day.pk}/call", {"action": "next"}).json()
    assert body["ticket"] is None and body["state"]["serving"] == []
    _error(api("staff").post(f"/days/{day.pk}/call", {"action": "undo"}), 409, "nothing_to_undo")


@pytest.mark.parametrize(
    "role,status",
    [
        ("admin", 200),
        ("staff", 200),
        ("grid_leader", 200),
        ("volunteer", 200),
        ("guard", 403),
        ("resident", 403),
        ("merchant", 403),
        ("outsider", 404),
    ],
)
def test_call_permission_matrix(api, day, three, role, status):
    resp = api(role).post(f"/days/{day.pk}/call", {"action": "next"})
    assert resp.status_code == status
    assert Ticket.objects.filter(status="called").count() == (1 if status == 200 else 0)


# --- report ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "role,status",
    [
        ("admin", 200),
        ("staff", 200),
        ("grid_leader", 200),
        ("volunteer", 403),
        ("guard", 403),
        ("resident", 403),
        ("outsider", 404),
    ],
)
def test_report_permission_matrix(api, day, role, status):
    assert api(role).get(f"/days/{day.pk}/report").status_code == status


def test_report_summary(api, day, three):
    now = timezone.now()
    for i, tk in enumerate(three[:2]):
        called = now - dt.timedelta(minutes=30 - 10 * i)
        Ticket.objects.filter(pk=tk.pk).update(
            status="served", first_called_at=called, served_at=called + dt.timedelta(minutes=2)
        )
    body = api("staff").get(f"/days/{day.pk}/report").json()
    assert body["issued"] == 3 and body["served"] == 2 and body["waiting"] == 1
    assert body["wait_serve"] == {"count": 2, "mean_min": 2.0, "median_min": 2.0}
    s = body["suggestion"]
    # 2 served: too thin; the day's expected 60 s per customer × 4 h.
    assert s["thin"] is True and s["rate_per_hour"] == 60 and s["tickets"] == 240
    assert len(s["steps"]) == 4 and "Only 2 customers were served" in s["steps"][0]


def test_openapi_lists_the_queue_paths(client):
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    for path, method in [
        ("/api/v1/queue/days", "get"),
        ("/api/v1/queue/days/{day_id}", "get"),
        ("/api/v1/queue/days/{day_id}/tickets", "post"),
        ("/api/v1/queue/days/{day_id}/call", "post"),
        ("/api/v1/queue/days/{day_id}/report", "get"),
    ]:
        assert method in paths[path], path


def test_grid_leader_sees_the_whole_community_days(api, day):
    # Days belong to the community (a point serves several grids), so a grid leader lists them.
    assert [r["id"] for r in api("grid_leader").get("/days").json()] == [day.pk]
