"""Reminders at the planned end (once per level, with a fixed clock) and the expiry sweep; the
`shouwang control_reminders` command prints what it did."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.management import call_command
from django.utils import timezone

from shouwang.control import services
from shouwang.control.models import HistoryEntry, HistoryEvent, ProposalStatus

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2022, 4, 12, 9, 0, tzinfo=dt.UTC)
H = dt.timedelta(hours=1)


def _set(personas, place, level, *, at=NOW, **kw):
    p = services.proposal_create(
        actor=personas["staff"], place=place, level=level, reason="理由", now=at, **kw
    )
    return services.proposal_approve(actor=personas["admin"], proposal=p, now=at + H).control


def test_reminder_once_at_the_planned_end(personas, places):
    c = _set(personas, places["ba"], "sealed", planned_end=NOW + dt.timedelta(days=7))
    _set(personas, places["bb"], "precaution")  # no planned end: never reminded
    assert services.remind_due(now=NOW + dt.timedelta(days=6)) == []
    end = c.planned_end
    due = services.remind_due(now=end)
    assert [x.pk for x in due] == [c.pk]
    c.refresh_from_db()
    assert c.reminded_at == end
    line = HistoryEntry.objects.get(event=HistoryEvent.REMINDED)
    assert line.place_label == "华美小区 1号楼" and line.level == "sealed"
    assert line.actor_id is None
    assert services.remind_due(now=end + dt.timedelta(days=1)) == []
    assert HistoryEntry.objects.filter(event=HistoryEvent.REMINDED).count() == 1


def test_an_extension_reminds_again_at_its_new_end(personas, places):
    c = _set(personas, places["ba"], "sealed", planned_end=NOW + dt.timedelta(days=2))
    services.remind_due(now=NOW + dt.timedelta(days=2))
    at = NOW + dt.timedelta(days=2, hours=1)
    _set(personas, places["ba"], "sealed", at=at, planned_end=at + dt.timedelta(days=3))
    c.refresh_from_db()
    assert c.reminded_at is None
    assert services.remind_due(now=at + dt.timedelta(days=3)) == [c]


def test_released_levels_are_not_reminded(personas, places):
    _set(personas, places["ba"], "sealed", planned_end=NOW + dt.timedelta(days=2))
    _set(personas, places["ba"], "none", at=NOW + dt.timedelta(days=1))
    assert services.remind_due(now=NOW + dt.timedelta(days=3)) == []


def test_expiry_sweep(personas, places):
    p = services.proposal_create(
        actor=personas["staff"], place=places["ba"], level="sealed", reason="疑似", now=NOW
    )
    assert services.expire_due(now=NOW + 23 * H) == []
    assert services.expire_due(now=NOW + 24 * H) == [p]
    p.refresh_from_db()
    assert p.status == ProposalStatus.EXPIRED
    assert services.expire_due(now=NOW + 48 * H) == []
    assert HistoryEntry.objects.filter(event=HistoryEvent.EXPIRED).count() == 1


def test_the_command_prints_what_it_reminded(personas, places):
    now = timezone.now()
    start = now - dt.timedelta(days=15)
    # Set up in the past (a fixed clock for the services), then run the command now.
    _set(personas, places["ba"], "sealed", at=start)
    services.proposal_create(
        actor=personas["staff"], place=places["bb"], level="controlled", reason="旧", now=start
    )
    out = io.StringIO()
    call_command("control_reminders", stdout=out)
    text = out.getvalue()
    assert "Reminded: 华美小区 1号楼 sealed" in text
    assert "Expired: proposal" in text and "新虹公寓 2号楼" in text
    assert "1 reminder(s), 1 proposal(s) expired." in text
    out = io.StringIO()
    call_command("control_reminders", stdout=out)
    assert "0 reminder(s), 0 proposal(s) expired." in out.getvalue()
