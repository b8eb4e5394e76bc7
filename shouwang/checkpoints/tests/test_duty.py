"""Check-in and my duty: a person checks in (and out) for their own duty, a leader for someone
else; the roster pages (week grid, generate, edit, print) and the API."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from shouwang.checkpoints import places, roster
from shouwang.checkpoints.models import Availability, Duty
from shouwang.core.errors import DomainError, Forbidden


@pytest.fixture
def post(community, personas):
    admin = personas["admin"]
    cp = places.checkpoint_save(actor=admin, community=community, name="东门")
    today = timezone.localdate()
    shifts = roster.shifts_make(
        community=community, checkpoints=[cp], start=today - dt.timedelta(1), days=3
    )
    now = timezone.now()
    current = next(s for s in shifts if s.starts_at <= now < s.ends_at)
    later = next(s for s in shifts if s.starts_at >= current.ends_at + dt.timedelta(hours=8))

    def duty(user, shift=current, kind="rotation"):
        return Duty.objects.create(
            community=community,
            shift=shift,
            user=user,
            kind=kind,
            starts_at=shift.starts_at,
            ends_at=shift.ends_at,
        )

    return {"cp": cp, "current": current, "later": later, "duty": duty, "shifts": shifts}


@pytest.mark.django_db
def test_check_in_and_out_for_ones_own_duty(personas, post):
    vol = personas["volunteer"]
    d = post["duty"](vol)
    now = timezone.now()
    roster.check_in(actor=vol, duty=d, now=now)
    first = Duty.objects.get(pk=d.pk).checked_in_at
    roster.check_in(actor=vol, duty=d, now=now + dt.timedelta(minutes=5))  # twice is once
    assert Duty.objects.get(pk=d.pk).checked_in_at == first
    roster.check_out(actor=vol, duty=d, now=now + dt.timedelta(hours=1))
    assert Duty.objects.get(pk=d.pk).checked_out_at is not None


@pytest.mark.django_db
def test_check_in_window_and_who_may(personas, post):
    vol, guard = personas["volunteer"], personas["guard"]
    later = post["duty"](vol, post["later"])
    with pytest.raises(DomainError) as e:
        roster.check_in(actor=vol, duty=later)
    assert e.value.code == "too_early"
    # half an hour before is fine
    roster.check_in(actor=vol, duty=later, now=later.starts_at - dt.timedelta(minutes=30))
    d = post["duty"](vol)
    with pytest.raises(DomainError) as e:
        roster.check_in(actor=vol, duty=d, now=d.ends_at)
    assert e.value.code == "over"
    with pytest.raises(Forbidden):
        roster.check_in(actor=guard, duty=d)  # someone else's duty
    with pytest.raises(DomainError):
        roster.check_out(actor=vol, duty=d)  # not checked in
    # the committee member on that shift may check the volunteer in
    post["duty"](personas["grid_leader"], kind="committee")
    roster.check_in(actor=personas["grid_leader"], duty=d)
    assert Duty.objects.get(pk=d.pk).checked_in_at is not None


@pytest.mark.django_db
def test_my_duty_page_check_in_and_availability(client, community, personas, post):
    vol = personas["volunteer"]
    d = post["duty"](vol)
    post["duty"](vol, post["later"])
    client.force_login(vol)
    page = client.get(reverse("checkpoints:my_duty")).content.decode()
    assert "东门" in page and "Check in" in page and "Nothing given yet" in page
    r = client.post(reverse("checkpoints:duty_check_in", args=[d.pk]))
    assert r.status_code == 302 and Duty.objects.get(pk=d.pk).checked_in_at
    assert "Check out" in client.get(reverse("checkpoints:my_duty")).content.decode()
    r = client.post(
        reverse("checkpoints:availability_add"),
        {"weekday": "4", "starts_at": "22:00", "ends_at": "06:00"},
    )
    assert r.status_code == 302
    a = Availability.objects.get(user=vol)
    assert (a.weekday, a.ends_at) == (4, dt.time(6))
    assert "through midnight" in client.get(reverse("checkpoints:my_duty")).content.decode()
    bad = client.post(
        reverse("checkpoints:availability_add"),
        {"weekday": "1", "date": "2030-03-04", "starts_at": "08:00", "ends_at": "12:00"},
    )
    assert bad.status_code == 200 and "not both" in bad.content.decode()
    r = client.post(reverse("checkpoints:availability_remove", args=[a.pk]))
    assert r.status_code == 302 and not Availability.objects.filter(user=vol).exists()


@pytest.mark.django_db
def test_roster_pages_generate_edit_print(client, community, personas, post):
    admin = personas["admin"]
    for u in (personas["staff"], personas["volunteer"], personas["guard"]):
        for wd in range(7):
            Availability.objects.create(
                community=community, user=u, weekday=wd, starts_at=dt.time(0), ends_at=dt.time(0)
            )
    client.force_login(admin)
    today = timezone.localdate()
    r = client.post(reverse("checkpoints:roster_generate"), {"start": today.isoformat(), "days": 2})
    assert r.status_code == 302
    assert Duty.objects.filter(generated=True).exists()
    page = client.get(r["Location"]).content.decode()
    assert "东门" in page and "Generate from availability" in page
    # 3 people cannot cover round the clock: the page names gaps
    assert "gaps" in page and "rotation short" in page
    d = Duty.objects.filter(generated=True, kind="rotation").first()
    edit = client.get(reverse("checkpoints:duty_edit", args=[d.pk]))
    assert edit.status_code == 200
    r = client.post(
        reverse("checkpoints:duty_edit", args=[d.pk]),
        {
            "user": personas["guard"].pk,
            "kind": "rotation",
            "starts_at": timezone.localtime(d.starts_at).strftime("%Y-%m-%dT%H:%M"),
            "ends_at": timezone.localtime(d.ends_at).strftime("%Y-%m-%dT%H:%M"),
        },
    )
    assert r.status_code == 302
    d.refresh_from_db()
    assert d.user == personas["guard"] and d.generated is False
    add = client.get(reverse("checkpoints:duty_add", args=[post["current"].pk]))
    assert add.status_code == 200
    printed = client.get(reverse("checkpoints:roster_print") + f"?start={today}")
    assert printed.status_code == 200 and "A4 landscape" in printed.content.decode()
    assert "size: A4 landscape" in printed.content.decode()
    # a volunteer reads the roster but gets no edit controls
    client.force_login(personas["volunteer"])
    page = client.get(reverse("checkpoints:roster") + f"?start={today}").content.decode()
    assert "Generate from availability" not in page and "东门" in page


@pytest.mark.django_db
def test_api_roster_generate_duties_check_in(client, community, personas, post):
    admin, vol = personas["admin"], personas["volunteer"]
    Availability.objects.create(
        community=community,
        user=vol,
        date=post["later"].starts_at.date(),
        starts_at=dt.time(0),
        ends_at=dt.time(0),
    )
    client.force_login(admin)
    start = timezone.localdate().isoformat()
    r = client.post(
        "/api/v1/checkpoints/roster/generate",
        {"start": start, "days": 2},
        content_type="application/json",
    )
    assert r.status_code == 200
    body = r.json()
    assert body["shifts"] and {p["code"] for p in body["problems"]} >= {"no_committee"}
    r = client.get(f"/api/v1/checkpoints/roster?start={start}&days=2")
    assert r.status_code == 200 and len(r.json()["shifts"]) == 6
    r = client.post(
        "/api/v1/checkpoints/duties",
        {
            "shift_id": post["current"].pk,
            "user_id": personas["grid_leader"].pk,
            "kind": "committee",
        },
        content_type="application/json",
    )
    assert r.status_code == 201
    duty_id = r.json()["duty"]["id"]
    # grid leader has no availability: the edit is kept and flagged
    assert any(p["code"] == "unavailable" for p in r.json()["problems"])
    r = client.post(f"/api/v1/checkpoints/duties/{duty_id}/check-in")
    assert r.status_code == 200 and r.json()["checked_in_at"]
    r = client.delete(f"/api/v1/checkpoints/duties/{duty_id}")
    assert r.status_code == 409
    r = client.post(
        "/api/v1/checkpoints/availability",
        {"weekday": 9, "starts_at": "08:00", "ends_at": "12:00"},
        content_type="application/json",
    )
    assert r.status_code == 400 and "weekday" in r.json()["error"]["fields"]
