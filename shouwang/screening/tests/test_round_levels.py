"""A round's scope by control level: only the homes under the chosen levels (through their unit,
building or compound) are expected, read at the round's time — a place released after a past
round keeps that round's figures."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from shouwang.control.models import Control
from shouwang.control.testing import put_under as _put_under
from shouwang.core.errors import DomainError
from shouwang.registry.models import Community, Unit
from shouwang.screening import coverage, services
from shouwang.screening.tests.rounds_helpers import make_round


def put_under(place, level, **kw):
    """Under the level since last night: before today's round (07:00–11:00), whatever the time
    of day the test runs. The helper's default start, an hour ago, falls after the round's end
    in the afternoon, when the round reads the levels at its end."""
    midnight = timezone.make_aware(dt.datetime.combine(timezone.localdate(), dt.time(0)))
    kw.setdefault("starts_at", midnight - dt.timedelta(hours=1))
    return _put_under(place, level, **kw)


def test_only_homes_under_the_level_are_expected(personas, ledger):
    put_under(ledger["h3"].building, "sealed")
    put_under(ledger["h1"].building.compound, "precaution")
    rnd = make_round(personas["admin"], control_levels=["sealed"])
    assert rnd.control_levels == "sealed"
    assert coverage.missing_ids(rnd) == {ledger["r3"].pk}
    assert list(services.households_in_scope(rnd)) == [ledger["h3"]]
    assert coverage.coverage(rnd).total.expected == 1
    # Two levels: the precaution compound's people too.
    both = make_round(personas["admin"], number=2, control_levels=["precaution", "sealed"])
    assert both.control_levels == "sealed,precaution"  # strictest first
    assert coverage.missing_ids(both) == {
        ledger["r1"].pk,
        ledger["r1b"].pk,
        ledger["r2"].pk,
        ledger["r3"].pk,
    }


def test_a_sealed_unit_is_its_homes_only(personas, ledger):
    unit = Unit.objects.get(pk=ledger["h1"].dwelling.unit_id)
    put_under(unit, "sealed")
    rnd = make_round(personas["admin"], control_levels=["sealed", "close_contact"])
    # h1 and h2 live in that unit; h3 (another building) does not.
    assert coverage.missing_ids(rnd) == {ledger["r1"].pk, ledger["r1b"].pk, ledger["r2"].pk}
    names = [(g.id, [b.id for b in g.buildings]) for g in coverage.coverage(rnd).grids]
    assert names == [(ledger["h1"].building.grid_id, [ledger["h1"].building_id])]


def test_levels_and_areas_together(personas, ledger, grid_b):
    put_under(ledger["h1"].building, "sealed")
    put_under(ledger["h3"].building, "sealed")
    rnd = make_round(personas["admin"], grids=[grid_b], control_levels=["sealed"])
    assert coverage.missing_ids(rnd) == {ledger["r3"].pk}


def test_nothing_under_the_level_expects_nobody(personas, ledger):
    rnd = make_round(personas["admin"], control_levels=["controlled"])
    assert coverage.missing_ids(rnd) == set()
    assert coverage.coverage(rnd).total.expected == 0
    rows = coverage.rollup(Community.objects.filter(pk=rnd.community_id), rnd.date)
    assert rows[0]["rounds"][0]["expected"] == 0  # counted as a scoped round, not the whole


def test_a_past_round_keeps_its_places_after_a_release(personas, ledger):
    yesterday = timezone.localdate() - dt.timedelta(days=1)
    start = timezone.now() - dt.timedelta(days=3)
    c = put_under(ledger["h3"].building, "sealed", starts_at=start)
    rnd = make_round(personas["admin"], date=yesterday, control_levels=["sealed"])
    # Released last night: after yesterday's round, before anything of today's (an hour ago
    # would be after today's round's 11:00 end in the afternoon).
    midnight = timezone.make_aware(dt.datetime.combine(timezone.localdate(), dt.time(0)))
    Control.objects.filter(pk=c.pk).update(ended_at=midnight - dt.timedelta(hours=1))
    assert coverage.missing_ids(rnd) == {ledger["r3"].pk}
    # Today's round with the same choice finds the building released.
    today = make_round(personas["admin"], number=2, control_levels=["sealed"])
    assert coverage.missing_ids(today) == set()


def test_unknown_level_is_refused(personas, ledger):
    with pytest.raises(DomainError) as e:
        make_round(personas["admin"], control_levels=["sealed", "lockdown"])
    assert "control_levels" in e.value.fields


def test_the_form_and_the_api_take_levels(client, personas, ledger):
    client.force_login(personas["admin"])
    resp = client.post(
        reverse("screening:round_new"),
        {
            "kind": "door",
            "number": 1,
            "date": timezone.localdate().isoformat(),
            "starts_at": "08:00",
            "ends_at": "12:00",
            "pool_size": 1,
            "control_levels": ["sealed", "close_contact"],
        },
    )
    assert resp.status_code == 302, resp.context["form"].errors if resp.context else resp
    from shouwang.screening.models import Round

    rnd = Round.objects.get(kind="door")
    assert rnd.control_levels == "sealed,close_contact"
    page = client.get(reverse("screening:round", args=[rnd.pk])).content.decode()
    assert "only homes under: Sealed、Close-contact building" in page
    edit = client.get(reverse("screening:round_edit", args=[rnd.pk]))
    assert edit.context["form"].initial["control_levels"] == ["sealed", "close_contact"]
    resp = client.post(
        "/api/v1/screening/rounds",
        {
            "kind": "mass",
            "date": timezone.localdate().isoformat(),
            "starts_at": "07:00",
            "ends_at": "11:00",
            "control_levels": ["controlled"],
        },
        content_type="application/json",
    )
    assert resp.status_code == 201, resp.content
    assert resp.json()["control_levels"] == ["controlled"]
    bad = client.post(
        "/api/v1/screening/rounds",
        {
            "kind": "mass",
            "date": timezone.localdate().isoformat(),
            "starts_at": "07:00",
            "ends_at": "11:00",
            "control_levels": ["red"],
        },
        content_type="application/json",
    )
    assert bad.status_code == 400 and "control_levels" in bad.json()["error"]["fields"]
