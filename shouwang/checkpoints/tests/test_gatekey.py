"""The gate key: signed once, checked once per process, and refused after its age limit even
when remembered."""

from __future__ import annotations

import time

import pytest

from shouwang.checkpoints import gatekey
from shouwang.checkpoints.models import Checkpoint


@pytest.fixture
def key(personas, community):
    cp = Checkpoint.objects.create(community=community, name="东门")
    return gatekey.issue(personas["guard"], cp, language="en"), cp


def test_a_key_names_its_gate_and_is_remembered(key, personas, monkeypatch):
    k, cp = key
    gatekey._VERIFIED.clear()
    gate = gatekey.verify(k)
    assert (gate.user_id, gate.checkpoint_id, gate.language) == (personas["guard"].pk, cp.pk, "en")
    # The second time no signature is checked.
    monkeypatch.setattr(gatekey.KEYS, "_signer", lambda: pytest.fail("checked twice"))
    assert gatekey.verify(k) is gate


def test_a_remembered_key_still_expires(key, monkeypatch):
    k, _cp = key
    gatekey._VERIFIED.clear()
    gatekey.verify(k)
    later = time.time() + gatekey.MAX_AGE + 5
    monkeypatch.setattr(time, "time", lambda: later)
    monkeypatch.setattr("django.core.signing.time.time", lambda: later)
    with pytest.raises(gatekey.GateKeyError):
        gatekey.verify(k)


def test_a_forged_key_is_never_remembered(key):
    k, _cp = key
    gatekey._VERIFIED.clear()
    forged = k[:-2] + ("AA" if not k.endswith("AA") else "BB")
    for _ in range(2):
        with pytest.raises(gatekey.GateKeyError):
            gatekey.verify(forged)
    assert forged not in gatekey._VERIFIED
