"""The pass decision at a checkpoint: allow, deny or check further, with every reason.

`decide(facts)` is a pure function over a small `Facts` record (the home's control level, the
direction, the temperature, the person's latest test results, the health-code colour the guard
saw, the community's rules, the time): the guard's page, the API, the paper sheets typed in
afterwards and the dashboard's labels all use it, so the rule lives once. The rules are in
docs/pass-decision.md and on the guard page's help; in short:

* home sealed or a close-contact building: out → deny (nobody leaves home); in → check (a
  sealed home's resident is outside: call the grid leader);
* home controlled: out → deny (nobody leaves the compound; a checkpoint is a compound gate);
  in → allow;
* precaution: shown, no effect;
* temperature ≥ the policy's fever line → deny; none taken → check;
* a positive within the policy's days, or an uncleared re-test flag → deny;
* no negative test within the policy's hours (antigen self-tests counting if the policy says
  so) → check, unless a sample within the hours awaits its result (allow, shown);
* health code red → deny, yellow → check, asked for and not entered → check;
* a pass that gives nobody (unknown, revoked, another community's) → check: identify the person.

The decision is the worst of its reasons (deny > check > allow). When the city's health-code
platform is down nothing changes: everything here is Shouwang's own data, and the colour is
only what the guard saw.

`record()` (further down) is the hot path behind the guard page's endpoint: one SELECT, the
decision, one INSERT (docs/decisions/0009-pass-path.md).
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from functools import cache

from django.db import connection
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from shouwang.accounts.permissions import CAPABILITIES
from shouwang.checkpoints.models import (
    CodeColour,
    Decision,
    Direction,
    Passage,
    Policy,
    Visitor,
)
from shouwang.control.models import SEVERITY, Level
from shouwang.core import rawrows
from shouwang.core.errors import DomainError
from shouwang.screening import scan as _scan

ALLOW, CHECK, DENY = Decision.ALLOW, Decision.CHECK, Decision.DENY
_RANK = {ALLOW: 0, CHECK: 1, DENY: 2}
SEALED_LEVELS = frozenset({Level.SEALED, Level.CLOSE_CONTACT})
_LEVEL_VALUES = frozenset(Level.values)
_DIRECTIONS = frozenset(Direction.values)
_COLOURS = frozenset(CodeColour.values)

# code → (the decision it gives, what the guard reads). ALLOW reasons are information shown
# beside an allow (they never stop anyone). The dashboard's "denials by reason" uses these labels.
REASONS: dict[str, tuple[str, object]] = {
    "sealed": (DENY, gettext_lazy("Home is sealed: nobody leaves home.")),
    "sealed_outside": (
        CHECK,
        gettext_lazy("Home is sealed, yet this person is outside: call the grid leader."),
    ),
    "controlled": (DENY, gettext_lazy("Home is under control: nobody leaves the compound.")),
    "precaution": (ALLOW, gettext_lazy("Home is in a precaution area: ordinary checks only.")),
    "fever": (DENY, gettext_lazy("Fever: do not let through; send to the fever clinic.")),
    "no_temperature": (CHECK, gettext_lazy("No temperature taken: take it.")),
    "positive": (DENY, gettext_lazy("Tested positive recently: stays at home.")),
    "retest": (
        DENY,
        gettext_lazy("Pooled tube positive: stays at home until the single-tube re-test."),
    ),
    "no_test": (CHECK, gettext_lazy("No negative test within the required hours.")),
    "test_pending": (ALLOW, gettext_lazy("Tested within the hours; the result is not in yet.")),
    "red_code": (DENY, gettext_lazy("Red health code.")),
    "yellow_code": (CHECK, gettext_lazy("Yellow health code: check further.")),
    "no_code": (CHECK, gettext_lazy("Health code not recorded: ask to see it.")),
    "pass_refused": (
        CHECK,
        gettext_lazy("The pass gives nobody: identify the person by ID card, or search."),
    ),
    # Visitors and couriers (decide_visitor).
    "host_sealed": (DENY, gettext_lazy("The host's home is sealed: no visitors.")),
    "host_controlled": (
        CHECK,
        gettext_lazy("The host's home is under control: visits only with the grid leader's OK."),
    ),
    "no_proof": (CHECK, gettext_lazy("No negative test shown.")),
}


def reason_label(code: str) -> str:
    """What the guard reads for a reason code (the code itself when unknown: an old row)."""
    found = REASONS.get(code)
    return str(found[1]) if found else code


def worst(codes) -> str:
    """The decision of a list of reason codes: the worst of them (no reason: allow)."""
    out = ALLOW
    for code in codes:
        d = REASONS[code][0]
        if _RANK[d] > _RANK[out]:
            out = d
    return out


# --- the facts ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Rules:
    """What the decision reads of the community's `Policy` (a plain record: cheap to build from
    the hot path's row, and the defaults when the community has no policy row yet)."""

    fever_at: Decimal = Decimal("37.3")
    test_hours: int = 48
    antigen_counts: bool = False
    positive_days: int = 14
    ask_health_code: bool = False

    @classmethod
    def of(cls, policy: Policy | None) -> Rules:
        if policy is None:
            return cls()
        return cls(
            fever_at=Decimal(policy.fever_at),
            test_hours=policy.test_hours,
            antigen_counts=policy.antigen_counts,
            positive_days=policy.positive_days,
            ask_health_code=policy.ask_health_code,
        )


@dataclass(frozen=True, slots=True)
class Facts:
    """Everything the decision looks at. Times are aware datetimes; dates are local dates."""

    direction: str
    now: dt.datetime
    rules: Rules = field(default_factory=Rules)
    level: str = ""  # the strictest control level over the home ("" for none)
    temperature: Decimal | None = None
    # The latest sample (device time) whose tube came back negative / still awaits a result.
    negative_at: dt.datetime | None = None
    pending_at: dt.datetime | None = None
    # The latest negative antigen self-test's day.
    antigen_negative_on: dt.date | None = None
    retest: bool = False  # an uncleared re-test flag
    positive_on: dt.date | None = None  # the latest positive's day
    code_colour: str = ""  # what the guard saw: "", green, yellow, red
    pass_refused: bool = False


def _home(level: str, direction: str) -> list[str]:
    if level in SEALED_LEVELS:
        return ["sealed" if direction == Direction.OUT else "sealed_outside"]
    if level == Level.CONTROLLED:
        return ["controlled"] if direction == Direction.OUT else []
    if level == Level.PRECAUTION:
        return ["precaution"]
    return []


def _temperature(t: Decimal | None, rules: Rules) -> list[str]:
    if t is None:
        return ["no_temperature"]
    return ["fever"] if t >= rules.fever_at else []


def _tests(f: Facts) -> list[str]:
    out = []
    today = timezone.localdate(f.now)
    # Detected on day D: stopped through day D + positive_days - 1 ("within 14 days": the day
    # of detection is the first of them).
    if f.positive_on is not None and (today - f.positive_on).days < f.rules.positive_days:
        out.append("positive")
    if f.retest:
        out.append("retest")
    hours = f.rules.test_hours
    if hours > 0:
        since = f.now - dt.timedelta(hours=hours)
        negative = f.negative_at is not None and f.negative_at >= since
        if not negative and f.rules.antigen_counts and f.antigen_negative_on is not None:
            # A self-test has a day, not a time: it counts when its day is within the hours.
            negative = f.antigen_negative_on >= timezone.localdate(since)
        if not negative:
            if f.pending_at is not None and f.pending_at >= since:
                out.append("test_pending")
            else:
                out.append("no_test")
    return out


def _code(colour: str, rules: Rules) -> list[str]:
    if colour == CodeColour.RED:
        return ["red_code"]
    if colour == CodeColour.YELLOW:
        return ["yellow_code"]
    if not colour and rules.ask_health_code:
        return ["no_code"]
    return []


def decide(facts: Facts) -> tuple[str, list[str]]:
    """(decision, reason codes in the order the guard reads them). Pure: no database, no clock
    but `facts.now`."""
    if facts.pass_refused:
        codes = ["pass_refused"]
        codes += _temperature(facts.temperature, facts.rules)
        codes += _code(facts.code_colour, facts.rules)
        return worst(codes), codes
    codes = _home(facts.level, facts.direction)
    codes += _temperature(facts.temperature, facts.rules)
    codes += _tests(facts)
    codes += _code(facts.code_colour, facts.rules)
    return worst(codes), codes


def decide_visitor(
    *,
    temperature: Decimal | None,
    proof: str,
    host_level: str = "",
    rules: Rules | None = None,
    code_colour: str = "",
) -> tuple[str, list[str]]:
    """A visitor or courier coming in: temperature, the test proof the guard saw, the health
    code, and the host household's control level (visiting a sealed home: deny; a controlled
    one: check with the grid leader)."""
    rules = rules or Rules()
    codes: list[str] = []
    if host_level in SEALED_LEVELS:
        codes.append("host_sealed")
    elif host_level == Level.CONTROLLED:
        codes.append("host_controlled")
    codes += _temperature(temperature, rules)
    if rules.test_hours > 0:
        seen = proof == Visitor.Proof.NEGATIVE or (
            proof == Visitor.Proof.ANTIGEN and rules.antigen_counts
        )
        if not seen:
            codes.append("no_proof")
    codes += _code(code_colour, rules)
    return worst(codes), codes


# --- input the guard types ---------------------------------------------------------------------

MIN_TEMPERATURE, MAX_TEMPERATURE = Decimal("34.0"), Decimal("43.0")


def parse_temperature(value) -> Decimal | None:
    """36.5, "36,5", "365" (a keypad without a dot) → Decimal("36.5"); "" or None → None;
    anything else, or outside 34–43 °C, a DomainError that says how to type it."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        value = ""
    text = str(value).strip().replace(",", ".").replace("，", ".").replace("。", ".")
    if text.isdigit() and len(text) == 3:
        text = f"{text[:2]}.{text[2]}"
    try:
        t = Decimal(text).quantize(Decimal("0.1"))
    except (InvalidOperation, ValueError):
        t = None
    if t is None or not t.is_finite() or not MIN_TEMPERATURE <= t <= MAX_TEMPERATURE:
        message = _("Temperature %(value)s is not a body temperature: type it like 36.5.") % {
            "value": str(value)[:10]
        }
        raise DomainError("invalid", message, fields={"temperature": message})
    return t


def parse_direction(value) -> str:
    if value in _DIRECTIONS:
        return value
    message = _("Say whether the person goes in or out.")
    raise DomainError("invalid", message, fields={"direction": message})


def parse_colour(value) -> str:
    if value in (None, ""):
        return ""
    if value in _COLOURS:
        return value
    message = _("The health-code colour is green, yellow or red.")
    raise DomainError("invalid", message, fields={"code_colour": message})


# --- the hot path: one SELECT, the decision, one INSERT -------------------------------------------
# See docs/decisions/0009-pass-path.md. The SELECT's helpers are the scan path's (prepared once
# per PostgreSQL connection outside a transaction; INSERT … ON CONFLICT DO NOTHING).


class Refused(_scan.Refused):
    """A request that gets no decision (bad input, an unknown person): nothing is logged."""


@dataclass(frozen=True, slots=True)
class PassIn:
    uid: uuid.UUID
    at: dt.datetime
    direction: str
    temperature: Decimal | None
    code_colour: str
    pass_raw: str | None
    resident_id: int | None


def parse_pass(data) -> PassIn:
    """A passage from its JSON (see views/guard.py); Refused("bad_request" / "invalid")."""
    if not isinstance(data, dict):
        raise _scan._bad(_("The request is not a passage."))
    raw = data.get("pass")
    resident = data.get("resident")
    if (raw in (None, "")) == (resident in (None, "")):
        raise _scan._bad(_("Scan a pass or find the person — one of the two."))
    if raw is not None and not isinstance(raw, str):
        raise _scan._bad(_("Scan a pass, or type the code under its QR."))
    try:
        direction = parse_direction(data.get("direction"))
        temperature = parse_temperature(data.get("temperature"))
        colour = parse_colour(data.get("code_colour"))
    except DomainError as e:
        refused = Refused("invalid", e.message, status=400, field=next(iter(e.fields), ""))
        refused.fields = e.fields  # the API's error shape names the field too
        raise refused from None
    at = data.get("at")
    return PassIn(
        uid=_scan._uid(data.get("uid")),
        at=_scan._at(at) if at not in (None, "") else timezone.now(),
        direction=direction,
        temperature=temperature,
        code_colour=colour,
        pass_raw=raw if raw not in (None, "") else None,
        resident_id=_scan._int(resident, _("The person")) if raw in (None, "") else None,
    )


def _severity_case(column: str) -> str:
    whens = " ".join(f"WHEN '{level}' THEN {n}" for level, n in SEVERITY.items() if n)
    return f"CASE {column} {whens} ELSE 0 END"


@cache
def _load_sql(vendor: str, how: str) -> str:
    """`how`: "pass" (by pass code) or "resident" (by id, found by the search)."""
    from shouwang.accounts.models import User
    from shouwang.checkpoints.models import Checkpoint
    from shouwang.control.models import Control
    from shouwang.registry.models import Building, Compound, Dwelling, Household, Resident, Unit
    from shouwang.residents.models import Pass
    from shouwang.screening.models import AntigenReport, Positive, RetestFlag, Sample, Tube

    t = rawrows.table
    if how == "pass":
        person = (
            f"LEFT JOIN {t(Pass)} p ON p.code = %(code)s "
            f"LEFT JOIN {t(Resident)} res ON res.id = p.resident_id "
            "AND p.community_id = %(community)s "
        )
        pass_cols = "p.id, p.status, p.community_id, p.revoked_at"
    else:
        person = (
            f"LEFT JOIN {t(Resident)} res ON res.id = %(resident)s "
            "AND res.community_id = %(community)s "
        )
        pass_cols = "NULL, NULL, NULL, NULL"
    sample, tube = t(Sample), t(Tube)

    def latest(result: str) -> str:
        return (
            f"(SELECT MAX(s.device_at) FROM {sample} s JOIN {tube} tb ON tb.id = s.tube_id "
            f"WHERE s.resident_id = res.id AND s.voided_at IS NULL AND tb.result = '{result}')"
        )

    level = (
        f"(SELECT cc.level FROM {t(Control)} cc WHERE cc.ended_at IS NULL "
        "AND cc.starts_at <= %(now)s AND (cc.unit_id = d.unit_id OR cc.building_id = b.id "
        f"OR cc.compound_id = b.compound_id) ORDER BY {_severity_case('cc.level')} DESC "
        "LIMIT 1)"
    )
    return (
        "SELECT u.is_active, u.role, u.community_id, cp.id, cp.is_active, "
        f"{pass_cols}, res.id, res.name, co.name, b.name, un.name, d.door, "
        f"{level}, {latest('negative')}, {latest('pending')}, "
        f"(SELECT MAX(a.date) FROM {t(AntigenReport)} a WHERE a.resident_id = res.id "
        "AND a.result = 'negative'), "
        f"(SELECT MAX(po.detected_on) FROM {t(Positive)} po WHERE po.resident_id = res.id), "
        f"(SELECT COUNT(*) FROM {t(RetestFlag)} rf WHERE rf.resident_id = res.id "
        "AND rf.cleared_at IS NULL), "
        "pol.fever_at, pol.test_hours, pol.antigen_counts, pol.positive_days, "
        "pol.ask_health_code, mine.id "
        f"FROM {t(User)} u "
        f"LEFT JOIN {t(Checkpoint)} cp ON cp.id = %(checkpoint)s "
        "AND cp.community_id = %(community)s "
        f"LEFT JOIN {t(Policy)} pol ON pol.community_id = %(community)s "
        f"{person}"
        f"LEFT JOIN {t(Household)} h ON h.id = res.household_id "
        f"LEFT JOIN {t(Dwelling)} d ON d.id = h.dwelling_id "
        f"LEFT JOIN {t(Unit)} un ON un.id = d.unit_id "
        f"LEFT JOIN {t(Building)} b ON b.id = h.building_id "
        f"LEFT JOIN {t(Compound)} co ON co.id = b.compound_id "
        f"LEFT JOIN {t(Passage)} mine ON mine.uid = %(uid)s "
        "WHERE u.id = %(user)s"
    )


def _decimal(value) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def _rules(row) -> Rules:
    fever, hours, antigen, days, ask = row
    if fever is None:  # no policy row yet: the defaults
        return Rules()
    return Rules(Decimal(str(fever)), hours, bool(antigen), days, bool(ask))


def home_label(*parts) -> str:
    """ "华美小区 1号楼 1单元 101"."""
    return " ".join(p for p in parts if p)


def record(gate, data_or_pass, *, now=None, via: str | None = None) -> dict:
    """Decide and log one passage at the gate key's checkpoint; the answer (a dict), or Refused.
    A uid already recorded gets the stored answer, and no second row."""
    from shouwang.checkpoints.gatekey import GateKeyError
    from shouwang.residents.models import Pass
    from shouwang.residents.services import pass_code, pass_refusal

    p = data_or_pass if isinstance(data_or_pass, PassIn) else parse_pass(data_or_pass)
    now = now or timezone.now()
    code = None
    refusal = None
    how = "resident"
    if p.pass_raw is not None:
        how = "pass"
        try:
            code = pass_code(p.pass_raw)
        except DomainError as e:
            if e.code == "pass_empty":
                raise Refused(e.code, e.message, status=400) from None
            refusal = e  # unreadable or forged: nobody, check further (logged)
    params = {
        "user": gate.user_id,
        "community": gate.community_id,
        "checkpoint": gate.checkpoint_id,
        "code": code or "",
        "resident": p.resident_id,
        "now": connection.ops.adapt_datetimefield_value(now),
        "uid": Passage._meta.get_field("uid").get_db_prep_value(p.uid, connection),
    }
    row = rawrows.fetch_row(_load_sql(connection.vendor, how), params)
    if row is None:
        raise GateKeyError()
    active, role, user_community, cp_id, cp_active = row[:5]
    if (
        not active
        or role not in CAPABILITIES["checkpoints.guard"]
        or user_community != gate.community_id
        or cp_id is None
        or not cp_active
    ):
        raise GateKeyError()
    if row[-1] is not None:
        return stored_answer(gate, p.uid)
    (
        pass_id,
        pass_status,
        pass_community,
        pass_revoked_at,
        res_id,
        name,
        compound,
        building,
        unit,
        door,
        level,
        negative_at,
        pending_at,
        antigen_on,
        positive_on,
        retests,
    ) = row[5:21]
    rules = _rules(row[21:26])
    if how == "pass" and refusal is None:
        if pass_id is None:
            refusal = pass_refusal("pass_unknown")
        elif pass_community != gate.community_id:
            refusal = pass_refusal("pass_elsewhere")
        elif pass_status != Pass.Status.ACTIVE:
            refusal = pass_refusal("pass_revoked", revoked_at=rawrows.aware(pass_revoked_at))
    if how == "resident" and res_id is None:
        raise Refused(
            "not_found",
            _("This person is not in this community's ledger. Search again."),
            status=404,
        )
    level = level or ""
    facts = Facts(
        direction=p.direction,
        now=now,
        rules=rules,
        level="" if refusal else level,
        temperature=p.temperature,
        negative_at=rawrows.aware(negative_at),
        pending_at=rawrows.aware(pending_at),
        antigen_negative_on=rawrows.as_date(antigen_on),
        retest=bool(retests),
        positive_on=rawrows.as_date(positive_on),
        code_colour=p.code_colour,
        pass_refused=refusal is not None,
    )
    decision, codes = decide(facts)
    values = {
        "uid": p.uid,
        "community_id": gate.community_id,
        "checkpoint_id": gate.checkpoint_id,
        "gate_id": None,
        "direction": p.direction,
        "resident_id": None if refusal else res_id,
        "visitor_id": None,
        "via": via or (Passage.Via.PASS if how == "pass" else Passage.Via.SEARCH),
        "temperature": p.temperature,
        "code_colour": p.code_colour,
        "decision": decision,
        "reasons": ",".join(codes),
        "level": facts.level,
        "guard_id": gate.user_id,
        "at": min(p.at, now),
        "recorded_at": now,
        "paper_id": None,
    }
    if not rawrows.insert_or_skip(Passage, "(uid)", values):
        return stored_answer(gate, p.uid)  # a copy of this request was faster
    person = None
    if refusal is None:
        person = {
            "resident": res_id,
            "name": _mask(name),
            "home": home_label(compound, building, unit, door),
        }
    return answer_of(
        "recorded",
        values,
        person,
        refusal=str(refusal.message) if refusal is not None else "",
        refusal_code=refusal.code if refusal is not None else "",
    )


def _mask(name) -> str:
    from shouwang.core.masking import mask_name_initial

    return mask_name_initial(name or "")


def stored_answer(gate, uid) -> dict:
    """The answer to a passage whose uid is recorded: as it was given (the stored decision and
    reasons), the person as they are now."""
    from shouwang.residents.services import place_label

    row = (
        Passage.objects.select_related(
            "resident__household__dwelling__unit", "resident__household__building__compound"
        )
        .filter(uid=uid)
        .first()
    )
    if (
        row is None
        or row.community_id != gate.community_id
        or row.checkpoint_id != gate.checkpoint_id
    ):
        raise _scan._bad(_("This passage's id was used for another one. Reload the guard page."))
    person = None
    if row.resident_id:
        r = row.resident
        person = {"resident": r.pk, "name": _mask(r.name), "home": place_label(r.household)}
    values = {
        "uid": row.uid,
        "direction": row.direction,
        "temperature": row.temperature,
        "code_colour": row.code_colour,
        "decision": row.decision,
        "reasons": row.reasons,
        "level": row.level,
        "at": row.at,
    }
    return answer_of("replayed", values, person)


def answer_of(status: str, values: dict, person, *, refusal: str = "", refusal_code="") -> dict:
    """The JSON answer of a passage."""
    codes = [c for c in values["reasons"].split(",") if c]
    decision = values["decision"]
    level = values["level"]
    t = values["temperature"]
    out = {
        "ok": True,
        "status": status,
        "uid": str(values["uid"]),
        "decision": decision,
        "decision_label": str(Decision(decision).label),
        "reasons": [
            {
                "code": c,
                "decision": REASONS[c][0] if c in REASONS else CHECK,
                "text": reason_label(c),
            }
            for c in codes
        ],
        "person": person,
        "level": level,
        "level_label": str(Level(level).label) if level in _LEVEL_VALUES else "",
        "direction": values["direction"],
        "temperature": None if t is None else f"{Decimal(t):.1f}",
        "code_colour": values["code_colour"],
        "at": timezone.localtime(values["at"]).isoformat(),
    }
    if refusal:
        out["pass_problem"] = {"code": refusal_code, "message": refusal}
    return out
