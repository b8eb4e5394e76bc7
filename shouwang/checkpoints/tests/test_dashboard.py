"""The checkpoint dashboard, counted by hand on a small fixture: passages per checkpoint per hour,
denials by reason, parcels waiting, who is on duty now; the hub for guards; the API figures."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from shouwang.checkpoints import dashboard
from shouwang.checkpoints.models import (
    Checkpoint,
    Duty,
    Parcel,
    ParcelStatus,
    Passage,
    Shift,
)


@pytest.fixture
def scene(community, personas, ledger):
    """Today: east gate 3 passages at 08:xx (one fever deny), 1 at 09:xx (sealed + fever deny);
    north gate 1 check (no_test) at 08:xx and one yesterday. Parcels: 2 logged, 1 handed, 1
    delivered. On duty now: the guard (checked in) at east, the volunteer at north (not)."""
    east = Checkpoint.objects.create(community=community, name="东门")
    north = Checkpoint.objects.create(community=community, name="北门")
    today = timezone.localdate()

    def at(h, m=0, day=today):
        return timezone.make_aware(dt.datetime.combine(day, dt.time(h, m)))

    def passage(cp, when, decision="allow", reasons=""):
        Passage.objects.create(
            community=community,
            checkpoint=cp,
            direction="out",
            resident=ledger["r1"],
            decision=decision,
            reasons=reasons,
            at=when,
            recorded_at=when,
        )

    passage(east, at(8, 5))
    passage(east, at(8, 30), "deny", "fever")
    passage(east, at(8, 59), "allow", "precaution")
    passage(east, at(9, 10), "deny", "sealed,fever,no_test")
    passage(north, at(8, 45), "check", "no_test")
    passage(north, at(8, 45, day=today - dt.timedelta(days=1)), "deny", "red_code")
    now = timezone.now()
    for i, status in enumerate(["logged", "logged", "handed", "delivered"]):
        Parcel.objects.create(
            community=community,
            checkpoint=east,
            household=ledger["h1"],
            status=status,
            logged_at=now - dt.timedelta(hours=5 - i),
        )
    shift = Shift.objects.create(
        community=community,
        checkpoint=east,
        starts_at=now - dt.timedelta(hours=2),
        ends_at=now + dt.timedelta(hours=6),
    )
    Duty.objects.create(
        community=community,
        shift=shift,
        user=personas["guard"],
        kind="rotation",
        starts_at=now - dt.timedelta(hours=1),
        ends_at=now + dt.timedelta(hours=1),
        checked_in_at=now - dt.timedelta(minutes=55),
    )
    nshift = Shift.objects.create(
        community=community,
        checkpoint=north,
        starts_at=now - dt.timedelta(hours=2),
        ends_at=now + dt.timedelta(hours=6),
    )
    Duty.objects.create(
        community=community,
        shift=nshift,
        user=personas["volunteer"],
        kind="rotation",
        starts_at=now - dt.timedelta(minutes=10),
        ends_at=now + dt.timedelta(hours=2),
    )
    # A duty that ended: not on duty now.
    Duty.objects.create(
        community=community,
        shift=shift,
        user=personas["staff"],
        kind="committee",
        starts_at=now - dt.timedelta(hours=2),
        ends_at=now - dt.timedelta(hours=1),
    )
    return {"east": east, "north": north, "today": today}


def test_passages_per_hour(scene, community):
    h = dashboard.passages_by_hour(community.pk, scene["today"])
    rows = {r["checkpoint"].name: r for r in h["rows"]}
    assert rows["东门"]["counts"][8] == 3 and rows["东门"]["counts"][9] == 1
    assert rows["东门"]["total"] == 4 and rows["东门"]["denied"] == 2
    assert rows["北门"]["counts"][8] == 1 and rows["北门"]["total"] == 1  # not yesterday's
    assert h["totals"][8] == 4 and sum(h["totals"]) == 5 and h["max"] == 3


def test_denials_by_reason(scene, community):
    got = {
        (r["decision"], r["code"]): r["n"]
        for r in dashboard.by_reason(community.pk, scene["today"])
    }
    # fever twice (two denials), sealed once; no_test of the deny is a check-level reason: not
    # a reason for that denial. The north check counts no_test once. "precaution" (an allow)
    # and yesterday's red code do not count.
    assert got == {("deny", "fever"): 2, ("deny", "sealed"): 1, ("check", "no_test"): 1}
    first = dashboard.by_reason(community.pk, scene["today"])[0]
    assert first["code"] == "fever" and "Fever" in first["label"]


def test_parcels_and_on_duty(scene, community):
    f = dashboard.figures(community.pk)
    counts = {c["status"]: c["n"] for c in f["parcels"]}
    assert counts == {ParcelStatus.LOGGED: 2, ParcelStatus.DISINFECTED: 0, ParcelStatus.HANDED: 1}
    assert [p.status for p in f["oldest_parcels"]] == ["logged", "logged", "handed"]
    duty = {
        (d.shift.checkpoint.name, d.user.username, d.checked_in_at is not None)
        for d in f["on_duty"]
    }
    assert duty == {("东门", "guard", True), ("北门", "volunteer", False)}


def test_dashboard_page(client, personas, scene):
    client.force_login(personas["staff"])
    r = client.get("/checkpoints/")
    html = r.content.decode()
    assert r.status_code == 200
    assert "Passages per hour" in html and "东门" in html and "北门" in html
    assert "Fever" in html and "On duty now" in html and "not checked in" in html
    assert "/checkpoints/guard/" in html and "/checkpoints/paper/" in html


def test_hub_for_guards_and_volunteers(client, personas, scene):
    client.force_login(personas["volunteer"])
    html = client.get("/checkpoints/").content.decode()
    assert "Passages per hour" not in html
    assert "/checkpoints/guard/" in html and "/checkpoints/visitors/" in html
    assert "/checkpoints/parcels/" in html and "/checkpoints/paper/" not in html
    assert "You are on duty at 北门 now." in html
    client.force_login(personas["guard"])
    html = client.get("/checkpoints/").content.decode()
    assert "/checkpoints/paper/" in html and "Passages per hour" not in html


def test_dashboard_query_count(client, personas, scene, django_assert_max_num_queries):
    client.force_login(personas["admin"])
    with django_assert_max_num_queries(16):
        assert client.get("/checkpoints/").status_code == 200


def test_api(client, personas, scene):
    client.force_login(personas["grid_leader"])
    body = client.get("/api/v1/checkpoints/dashboard").json()
    rows = {r["checkpoint"]: r for r in body["hours"]}
    assert rows["东门"]["counts"][8] == 3 and body["totals"][9] == 1
    assert {(r["code"], r["n"]) for r in body["reasons"]} == {
        ("fever", 2),
        ("sealed", 1),
        ("no_test", 1),
    }
    assert len(body["on_duty"]) == 2
    client.force_login(personas["guard"])
    assert client.get("/api/v1/checkpoints/dashboard").status_code == 403


def test_demo_desk_builds_every_step(
    community, personas, ledger, django_capture_on_commit_callbacks
):
    from shouwang.checkpoints.demo_desk import demo

    with django_capture_on_commit_callbacks(execute=False):
        out = demo(community, now=timezone.now(), users=personas)
    assert out["visitors"] >= 3 and out["parcels"] == 5
    statuses = set(Parcel.objects.values_list("status", flat=True))
    assert statuses == {"logged", "disinfected", "handed", "delivered"}
    f = dashboard.figures(community.pk)
    assert sum(f["hourly"]["totals"]) > 0 or timezone.localtime().hour < 6
    assert any(r["code"] == "fever" for r in f["reasons"]) or timezone.localtime().hour < 6
