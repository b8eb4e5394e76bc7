"""Approve, replace, extend, release, reject, withdraw: the Control rows and the history lines
they write; the proposal rules (reason, times, nothing to release, duplicates)."""

from __future__ import annotations

import datetime as dt

import pytest

from shouwang.control import levels, services
from shouwang.control.models import Control, HistoryEntry, HistoryEvent, ProposalStatus
from shouwang.core.errors import Conflict, DomainError, Forbidden

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2022, 4, 12, 9, 0, tzinfo=dt.UTC)
H = dt.timedelta(hours=1)


def _set(personas, place, level, *, at=NOW, **kw):
    p = services.proposal_create(
        actor=personas["staff"], place=place, level=level, reason=f"理由 {level}", now=at, **kw
    )
    return services.proposal_approve(actor=personas["admin"], proposal=p, now=at + H)


def _events(place_id):
    return list(
        HistoryEntry.objects.filter(place_id=place_id)
        .order_by("pk")
        .values_list("event", "level_before", "level")
    )


def test_approval_sets_the_level_with_defaults_and_history(personas, places, ledger):
    out = _set(personas, places["unit_a"], "sealed")
    c = out.control
    assert (c.kind, c.unit_id, c.level) == ("unit", places["unit_a"].pk, "sealed")
    assert c.starts_at == NOW + H  # in force from the approval
    assert c.planned_end == NOW + dt.timedelta(days=14)
    assert levels.level_of_household(ledger["h1"], now=NOW + 2 * H) == c
    assert levels.level_of_household(ledger["h3"], now=NOW + 2 * H) is None
    lines = list(HistoryEntry.objects.order_by("pk"))
    assert [h.event for h in lines] == [HistoryEvent.PROPOSED, HistoryEvent.APPROVED]
    approved = lines[1]
    assert approved.place_label == "华美小区 1号楼 1单元"
    assert approved.actor_id == personas["admin"].pk
    assert approved.actor_name == personas["admin"].label
    assert approved.level_before == "" and approved.level == "sealed"
    assert approved.reason == "理由 sealed"
    assert lines[0].actor_id == personas["staff"].pk


def test_a_new_level_replaces_the_current_one(personas, places):
    first = _set(personas, places["ba"], "controlled").control
    later = NOW + 5 * H
    out = _set(personas, places["ba"], "sealed", at=later)
    first.refresh_from_db()
    assert first.ended_at == later + H and first.ended_by == out.proposal
    assert out.ended == first
    current = Control.objects.get(building=places["ba"], ended_at=None)
    assert current.level == "sealed"
    assert _events(places["ba"].pk)[-1] == (HistoryEvent.APPROVED, "controlled", "sealed")


def test_the_same_level_with_another_end_extends_it(personas, places):
    c = _set(personas, places["ba"], "sealed").control
    new_end = NOW + dt.timedelta(days=21)
    out = _set(personas, places["ba"], "sealed", at=NOW + 2 * H, planned_end=new_end)
    assert out.control.pk == c.pk
    c.refresh_from_db()
    assert c.planned_end == new_end and c.ended_at is None and c.starts_at == NOW + H
    assert Control.objects.count() == 1
    line = HistoryEntry.objects.order_by("-pk").first()
    assert line.level_before == "sealed" and "→" in line.note


def test_the_same_level_and_end_is_refused(personas, places):
    c = _set(personas, places["ba"], "precaution").control
    assert c.planned_end is None
    with pytest.raises(DomainError) as e:
        services.proposal_create(
            actor=personas["staff"], place=places["ba"], level="precaution", reason="再来", now=NOW
        )
    assert e.value.fields.keys() == {"level"}


def test_release_ends_the_level(personas, places, ledger):
    c = _set(personas, places["compound_a"], "controlled").control
    later = NOW + dt.timedelta(days=3)
    out = _set(personas, places["compound_a"], "none", at=later)
    assert out.control is None and out.ended == c
    c.refresh_from_db()
    assert c.ended_at == later + H
    assert levels.level_of_household(ledger["h1"], now=later + 2 * H) is None
    # Seen in the past, it was there.
    assert levels.level_of_household(ledger["h1"], now=later) == c
    assert _events(places["compound_a"].pk)[-1] == (HistoryEvent.RELEASED, "controlled", "none")


def test_a_release_for_later_keeps_the_level_until_then(personas, places, ledger):
    c = _set(personas, places["ba"], "sealed").control
    at = NOW + 2 * H
    tomorrow = at + dt.timedelta(days=1)
    _set(personas, places["ba"], "none", at=at, starts_at=tomorrow)
    c.refresh_from_db()
    assert c.ended_at == tomorrow
    assert levels.level_of_household(ledger["h1"], now=at + 2 * H) == c
    assert levels.level_of_household(ledger["h1"], now=tomorrow) is None


def test_nothing_to_release(personas, places):
    with pytest.raises(DomainError) as e:
        services.proposal_create(
            actor=personas["staff"], place=places["ba"], level="none", reason="解封", now=NOW
        )
    assert "level" in e.value.fields


def test_release_of_a_place_released_meanwhile_is_refused(personas, places, admin2):
    _set(personas, places["ba"], "sealed")
    r1 = services.proposal_create(
        actor=personas["staff"], place=places["ba"], level="none", reason="解封", now=NOW + H
    )
    r2 = services.proposal_create(
        actor=personas["grid_leader"],
        place=places["ba"],
        level="precaution",
        reason="降级",
        now=NOW + H,
    )
    services.proposal_approve(actor=personas["admin"], proposal=r1, now=NOW + 2 * H)
    # r2 is a new level on a released place: fine.
    services.proposal_approve(actor=admin2, proposal=r2, now=NOW + 3 * H)
    assert Control.objects.get(building=places["ba"], ended_at=None).level == "precaution"


def test_reject_needs_a_note_and_is_logged(personas, places):
    p = services.proposal_create(
        actor=personas["staff"], place=places["ba"], level="sealed", reason="疑似", now=NOW
    )
    with pytest.raises(DomainError) as e:
        services.proposal_reject(actor=personas["admin"], proposal=p, note=" ", now=NOW)
    assert "note" in e.value.fields
    services.proposal_reject(actor=personas["admin"], proposal=p, note="复核阴性", now=NOW)
    p.refresh_from_db()
    assert p.status == ProposalStatus.REJECTED and p.decision_note == "复核阴性"
    assert not Control.objects.exists()
    line = HistoryEntry.objects.order_by("-pk").first()
    assert (line.event, line.note, line.actor_id) == (
        HistoryEvent.REJECTED,
        "复核阴性",
        personas["admin"].pk,
    )


def test_withdraw_only_by_the_proposer(personas, places):
    p = services.proposal_create(
        actor=personas["staff"], place=places["ba"], level="sealed", reason="疑似", now=NOW
    )
    for other in ("admin", "grid_leader"):
        with pytest.raises(Forbidden):
            services.proposal_withdraw(actor=personas[other], proposal=p, now=NOW)
    services.proposal_withdraw(actor=personas["staff"], proposal=p, now=NOW)
    p.refresh_from_db()
    assert p.status == ProposalStatus.WITHDRAWN
    with pytest.raises(Conflict):
        services.proposal_approve(actor=personas["admin"], proposal=p, now=NOW)


@pytest.mark.parametrize(
    ("kw", "field"),
    [
        ({"reason": ""}, "reason"),
        ({"level": "lockdown"}, "level"),
        ({"starts_at": NOW - dt.timedelta(days=1)}, "starts_at"),
        ({"planned_end": NOW - H}, "planned_end"),
        ({"expires_at": NOW - H}, "expires_at"),
        ({"expires_at": NOW + dt.timedelta(days=30)}, "expires_at"),
        ({"level": "none", "planned_end": NOW + dt.timedelta(days=2)}, "planned_end"),
    ],
)
def test_bad_proposals_say_what_to_fix(personas, places, kw, field):
    if kw.get("level") == "none":
        _set(personas, places["ba"], "sealed")
    args = {"level": "sealed", "reason": "理由", **kw}
    with pytest.raises(DomainError) as e:
        services.proposal_create(actor=personas["staff"], place=places["ba"], now=NOW, **args)
    assert field in e.value.fields


def test_the_same_open_proposal_twice_is_refused(personas, places):
    services.proposal_create(
        actor=personas["staff"], place=places["ba"], level="sealed", reason="一", now=NOW
    )
    with pytest.raises(Conflict):
        services.proposal_create(
            actor=personas["grid_leader"], place=places["ba"], level="sealed", reason="二", now=NOW
        )
    # Another level on the same place is another question: allowed.
    services.proposal_create(
        actor=personas["grid_leader"], place=places["ba"], level="controlled", reason="三", now=NOW
    )


def test_precaution_has_no_default_end(personas, places):
    c = _set(personas, places["compound_b"], "precaution").control
    assert c.planned_end is None
