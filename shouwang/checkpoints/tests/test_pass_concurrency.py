"""The same passage sent at the same instant from several threads with their own connections
(core.testing.run_at_once): one row, one answer — and, on PostgreSQL, the SELECT run as the
connection's prepared statement (outside a transaction, as in production)."""

from __future__ import annotations

import uuid

import pytest

from shouwang.checkpoints import decision, gatekey
from shouwang.checkpoints.models import Passage
from shouwang.checkpoints.tests.test_pass_endpoint import make_checkpoint, sample, token
from shouwang.control.testing import put_under
from shouwang.core.testing import run_at_once

THREADS = 8


@pytest.fixture
def scene(personas, ledger, db_file):
    r = ledger["r1"]
    sample(r, hours_ago=10)
    cp = make_checkpoint(personas["admin"].community)
    gate = gatekey.verify(gatekey.issue(personas["guard"], cp, language="en"))
    return gate, r, token(r, personas["staff"]), db_file


def test_one_uid_sent_at_once_is_one_row(scene):
    gate, r, t, attach = scene
    uid = str(uuid.uuid4())
    body = {"uid": uid, "direction": "out", "temperature": "36.6", "pass": t}
    results, refusals = run_at_once(attach, lambda _i: decision.record(gate, body), range(THREADS))
    assert not refusals
    assert {a["decision"] for a in results} == {"allow"}
    assert sorted(a["status"] for a in results).count("recorded") == 1
    assert Passage.objects.filter(uid=uid).count() == 1


def test_many_passages_outside_a_transaction(scene):
    gate, r, t, _attach = scene
    put_under(r.household.building, "controlled")
    for direction, expected in (("out", "deny"), ("in", "allow"), ("out", "deny")):
        a = decision.record(
            gate,
            {"uid": str(uuid.uuid4()), "direction": direction, "temperature": "36.5", "pass": t},
        )
        assert a["decision"] == expected
    assert Passage.objects.count() == 3
