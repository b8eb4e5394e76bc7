"""The decision rules as a pure function (decision.decide, decide_visitor): every reason, its
edges, and the worst-of order. The same rules through the real endpoint: test_pass_endpoint.py."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from shouwang.checkpoints.decision import (
    REASONS,
    Facts,
    Rules,
    decide,
    decide_visitor,
    parse_temperature,
    worst,
)
from shouwang.core.errors import DomainError

NOW = timezone.make_aware(dt.datetime(2022, 4, 10, 9, 0))
TODAY = timezone.localdate(NOW)
OK = {"temperature": Decimal("36.5"), "negative_at": NOW - dt.timedelta(hours=20)}


def facts(**kw) -> Facts:
    return Facts(**{"direction": "out", "now": NOW, **OK, **kw})


def test_all_clear():
    assert decide(facts()) == ("allow", [])


@pytest.mark.parametrize(
    ("level", "direction", "expected"),
    [
        ("sealed", "out", ("deny", ["sealed"])),
        ("sealed", "in", ("check", ["sealed_outside"])),
        ("close_contact", "out", ("deny", ["sealed"])),
        ("close_contact", "in", ("check", ["sealed_outside"])),
        ("controlled", "out", ("deny", ["controlled"])),
        ("controlled", "in", ("allow", [])),
        ("precaution", "out", ("allow", ["precaution"])),
        ("precaution", "in", ("allow", ["precaution"])),
        ("", "out", ("allow", [])),
    ],
)
def test_home_level(level, direction, expected):
    assert decide(facts(level=level, direction=direction)) == expected


@pytest.mark.parametrize(
    ("t", "expected"),
    [
        ("37.3", ("deny", ["fever"])),
        ("37.2", ("allow", [])),
        ("39.0", ("deny", ["fever"])),
        (None, ("check", ["no_temperature"])),
    ],
)
def test_temperature(t, expected):
    assert decide(facts(temperature=Decimal(t) if t else None)) == expected


def test_fever_line_is_the_policy_s():
    rules = Rules(fever_at=Decimal("37.5"))
    assert decide(facts(rules=rules, temperature=Decimal("37.4"))) == ("allow", [])
    assert decide(facts(rules=rules, temperature=Decimal("37.5")))[0] == "deny"


def test_positive_within_days_and_just_outside():
    # Detected on day D: days D … D+13 are "within 14 days".
    assert decide(facts(positive_on=TODAY - dt.timedelta(days=13))) == ("deny", ["positive"])
    assert decide(facts(positive_on=TODAY)) == ("deny", ["positive"])
    assert decide(facts(positive_on=TODAY - dt.timedelta(days=14))) == ("allow", [])


def test_retest_flag():
    assert decide(facts(retest=True)) == ("deny", ["retest"])


def test_negative_within_hours():
    h48 = dt.timedelta(hours=48)
    assert decide(facts(negative_at=NOW - h48)) == ("allow", [])  # just inside
    assert decide(facts(negative_at=NOW - h48 - dt.timedelta(minutes=1))) == (
        "check",
        ["no_test"],
    )
    assert decide(facts(negative_at=None)) == ("check", ["no_test"])


def test_pending_sample_within_hours_allows_with_info():
    f = facts(negative_at=None, pending_at=NOW - dt.timedelta(hours=3))
    assert decide(f) == ("allow", ["test_pending"])
    old = facts(negative_at=None, pending_at=NOW - dt.timedelta(hours=50))
    assert decide(old) == ("check", ["no_test"])


def test_no_test_asked_when_hours_is_zero():
    assert decide(facts(rules=Rules(test_hours=0), negative_at=None)) == ("allow", [])


def test_antigen_counts_only_when_the_policy_says_so():
    f = {"negative_at": None, "antigen_negative_on": TODAY}
    assert decide(facts(**f)) == ("check", ["no_test"])
    assert decide(facts(rules=Rules(antigen_counts=True), **f)) == ("allow", [])
    # A self-test of a day before the window does not count.
    old = {"negative_at": None, "antigen_negative_on": TODAY - dt.timedelta(days=3)}
    assert decide(facts(rules=Rules(antigen_counts=True), **old)) == ("check", ["no_test"])


@pytest.mark.parametrize(
    ("ask", "colour", "expected"),
    [
        (False, "", ("allow", [])),
        (False, "green", ("allow", [])),
        (False, "red", ("deny", ["red_code"])),
        (False, "yellow", ("check", ["yellow_code"])),
        (True, "", ("check", ["no_code"])),
        (True, "green", ("allow", [])),
        (True, "red", ("deny", ["red_code"])),
    ],
)
def test_health_code(ask, colour, expected):
    assert decide(facts(rules=Rules(ask_health_code=ask), code_colour=colour)) == expected


def test_pass_refused_is_check_and_still_reads_temperature():
    assert decide(facts(pass_refused=True, level="sealed")) == ("check", ["pass_refused"])
    f = facts(pass_refused=True, temperature=Decimal("38.0"))
    assert decide(f) == ("deny", ["pass_refused", "fever"])


def test_the_worst_reason_wins_and_every_reason_is_listed():
    f = facts(level="controlled", temperature=None, retest=True, code_colour="yellow")
    assert decide(f) == ("deny", ["controlled", "no_temperature", "retest", "yellow_code"])
    assert worst(["test_pending", "no_code"]) == "check"
    assert worst([]) == "allow"


def test_every_reason_has_a_decision_and_a_label():
    for code, (decision, label) in REASONS.items():
        assert decision in ("allow", "deny", "check"), code
        assert str(label), code


def test_visitor():
    t = Decimal("36.6")
    assert decide_visitor(temperature=t, proof="negative") == ("allow", [])
    assert decide_visitor(temperature=t, proof="negative", host_level="sealed") == (
        "deny",
        ["host_sealed"],
    )
    assert decide_visitor(temperature=t, proof="negative", host_level="controlled") == (
        "check",
        ["host_controlled"],
    )
    assert decide_visitor(temperature=t, proof="none") == ("check", ["no_proof"])
    assert decide_visitor(temperature=t, proof="antigen") == ("check", ["no_proof"])
    assert decide_visitor(temperature=t, proof="antigen", rules=Rules(antigen_counts=True)) == (
        "allow",
        [],
    )
    assert decide_visitor(temperature=Decimal("37.3"), proof="negative") == ("deny", ["fever"])
    assert decide_visitor(temperature=None, proof="negative") == ("check", ["no_temperature"])


@pytest.mark.parametrize(
    ("raw", "value"),
    [("36.5", "36.5"), ("36,5", "36.5"), ("365", "36.5"), (36.5, "36.5"), ("", None), (None, None)],
)
def test_temperature_typed(raw, value):
    got = parse_temperature(raw)
    assert (None if got is None else str(got)) == value


@pytest.mark.parametrize("raw", ["3.65", "abc", "99", "45.0", True, "nan"])
def test_temperature_refused_says_how_to_type_it(raw):
    with pytest.raises(DomainError) as e:
        parse_temperature(raw)
    assert "36.5" in str(e.value.message)


def test_demo_makes_a_day_of_passages_with_denials(personas, ledger):
    from shouwang.checkpoints.demo_guard import demo
    from shouwang.checkpoints.models import Passage
    from shouwang.checkpoints.tests.test_pass_endpoint import make_checkpoint
    from shouwang.control.testing import put_under

    community = personas["admin"].community
    make_checkpoint(community, name="东门")
    put_under(ledger["h1"].building, "controlled")
    made = demo(community, users=personas, log=lambda *_: None)
    assert made == Passage.objects.filter(community=community).count() > 0
    assert Passage.objects.filter(decision="deny").exists()
    assert demo(community, users=personas, log=lambda *_: None) == 0  # once
