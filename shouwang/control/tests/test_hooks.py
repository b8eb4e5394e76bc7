"""Results propose levels, never set them: a positive single tube or antigen report proposes
SEALED on the person's building; a positive pooled tube proposes CONTROLLED on each building of
its people; both skip a building already at that level or stricter, and an open duplicate."""

from __future__ import annotations

import pytest

from shouwang.control import services
from shouwang.control.models import (
    Control,
    HistoryEntry,
    Proposal,
    ProposalSource,
    ProposalStatus,
)
from shouwang.control.testing import put_under
from shouwang.screening import antigen, results
from shouwang.screening.models import Positive
from shouwang.screening.tests.rounds_helpers import make_round, make_tube, swab

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _memory_sms(settings):
    settings.SMS_GATEWAY = "shouwang.residents.sms.MemoryGateway"


def test_positive_single_tube_proposes_sealing_and_sets_nothing(personas, ledger, places):
    r = make_round(personas["admin"])
    t = make_tube(r, "S1", capacity=1)
    swab(t, ledger["r3"])
    results.result_record(actor=personas["staff"], tube=t, result="positive", texts=False)
    p = Proposal.objects.get()
    assert (p.kind, p.building_id, p.level) == ("building", places["bb"].pk, "sealed")
    assert p.status == ProposalStatus.PENDING and p.source == ProposalSource.POSITIVE
    assert p.proposed_by is None and p.tube == t
    assert p.positive == Positive.objects.get(resident=ledger["r3"])
    assert "S1" in p.reason and "赵五" not in p.reason
    assert not Control.objects.exists()
    line = HistoryEntry.objects.get()
    assert line.event == "proposed" and line.actor_id is None and line.actor_name == ""
    # Any admin may approve a system proposal.
    out = services.proposal_approve(actor=personas["admin"], proposal=p)
    assert out.control.level == "sealed"


def test_pooled_positive_proposes_controlled_per_building(personas, ledger, places):
    r = make_round(personas["admin"])
    t = make_tube(r, "P1")
    for res in ("r1", "r1b", "r2", "r3"):
        swab(t, ledger[res])
    results.result_record(actor=personas["staff"], tube=t, result="positive", texts=False)
    props = Proposal.objects.order_by("building_id")
    assert {(p.building_id, p.level) for p in props} == {
        (places["ba"].pk, "controlled"),
        (places["bb"].pk, "controlled"),
    }
    assert all(p.source == ProposalSource.POOLED and p.tube == t for p in props)
    assert all("P1" in p.reason and "re-test" in p.reason for p in props)
    assert not Control.objects.exists()


def test_skips_a_building_already_as_strict_or_an_open_duplicate(personas, ledger, places):
    put_under(places["compound_a"], "sealed")  # building A sealed through its compound
    r = make_round(personas["admin"])
    t1 = make_tube(r, "P1")
    for res in ("r1", "r3"):
        swab(t1, ledger[res])
    results.result_record(actor=personas["staff"], tube=t1, result="positive", texts=False)
    t2 = make_tube(r, "P2")
    swab(t2, ledger["r3"], counted=False)
    results.result_record(actor=personas["staff"], tube=t2, result="positive", texts=False)
    # Only building B, once.
    assert list(Proposal.objects.filter(source="pooled").values_list("building_id", flat=True)) == [
        places["bb"].pk
    ]
    # Sealing is stricter than controlled: a single positive in B still proposes it.
    t3 = make_tube(r, "S3", capacity=1)
    swab(t3, ledger["r3"], counted=False)
    results.result_record(actor=personas["staff"], tube=t3, result="positive", texts=False)
    assert Proposal.objects.filter(building=places["bb"], level="sealed").count() == 1
    # A positive in sealed building A proposes nothing.
    t4 = make_tube(r, "S4", capacity=1)
    swab(t4, ledger["r2"], counted=False)
    results.result_record(actor=personas["staff"], tube=t4, result="positive", texts=False)
    assert not Proposal.objects.filter(building=places["ba"]).exists()


def test_lab_file_import_proposes_too(personas, ledger, places):
    r = make_round(personas["admin"])
    swab(make_tube(r, "S9", capacity=1), ledger["r1"])
    report = results.results_import(
        actor=personas["staff"],
        rnd=r,
        source="管号,结果\nS9,阳性\n".encode(),
        filename="lab.csv",
        commit=True,
    )
    assert report.committed
    assert Proposal.objects.get().building == places["ba"]


def test_positive_antigen_proposes_sealing(personas, ledger, places):
    antigen.report_save(
        actor=personas["staff"], resident=ledger["r2"], result="positive", via="staff"
    )
    p = Proposal.objects.get()
    assert (p.building_id, p.level, p.source) == (places["ba"].pk, "sealed", "positive")
    assert p.positive.antigen is not None
    # The same report again: no second proposal.
    antigen.report_save(
        actor=personas["staff"], resident=ledger["r2"], result="positive", via="staff"
    )
    assert Proposal.objects.count() == 1
    assert not Control.objects.exists()
