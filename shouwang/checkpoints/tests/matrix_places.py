"""Part of the checkpoints app's permission matrix (see tests/matrix.py): gates, checkpoints, the
policy, rosters, duties, check-in and availability (places)."""

from __future__ import annotations

from shouwang.core.tests.matrix_policy import Policy

# checkpoints.manage (gates, checkpoints, policy): the office; pages without an id for the
# outsider too (their own community).
MANAGE = frozenset({"admin", "staff"})
MANAGE_HOME = MANAGE | {"outsider"}
# checkpoints.roster (generate, edit): the office.
ROSTER = MANAGE
ROSTER_HOME = MANAGE_HOME
# checkpoints.duty (the roster to read, my duty, my availability).
DUTY = frozenset({"admin", "staff", "grid_leader", "guard", "volunteer"})
DUTY_HOME = DUTY | {"outsider"}
# Checking in for the volunteer's duty: the volunteer; the office; and the grid leader, who is the
# committee member on that shift right now (rows() puts them there). The guard is refused.
CHECK_IN = frozenset({"admin", "staff", "volunteer", "grid_leader"})
# Someone's availability: only theirs (the page); the API lets the office remove it too.
OWN_AVAILABILITY = frozenset({"volunteer"})

EXPECTED: dict = {
    "checkpoints:gates": Policy(MANAGE_HOME),
    "checkpoints:gate_new": Policy(MANAGE_HOME),
    "checkpoints:gate_edit": Policy(MANAGE, params={"pk": "cp_gate"}),
    "checkpoints:gate_toggle": Policy(
        MANAGE, method="POST", params={"pk": "cp_gate"}, post_only=True
    ),
    "checkpoints:checkpoint_new": Policy(MANAGE_HOME),
    "checkpoints:checkpoint_edit": Policy(MANAGE, params={"pk": "cp_cp"}),
    "checkpoints:checkpoint_retire": Policy(
        MANAGE, method="POST", params={"pk": "cp_cp_retire"}, post_only=True
    ),
    "checkpoints:policy": Policy(MANAGE_HOME),
    "checkpoints:roster": Policy(DUTY_HOME),
    "checkpoints:roster_print": Policy(DUTY_HOME),
    "checkpoints:roster_generate": Policy(
        ROSTER_HOME, method="POST", data="cp_generate_form", post_only=True
    ),
    "checkpoints:duty_add": Policy(ROSTER, params={"pk": "cp_shift"}),
    "checkpoints:duty_edit": Policy(ROSTER, params={"pk": "cp_duty_edit"}),
    "checkpoints:duty_remove": Policy(
        ROSTER, method="POST", params={"pk": "cp_duty_gone"}, post_only=True
    ),
    "checkpoints:duty_check_in": Policy(
        CHECK_IN, method="POST", params={"pk": "cp_duty_now"}, post_only=True
    ),
    "checkpoints:duty_check_out": Policy(
        CHECK_IN, method="POST", params={"pk": "cp_duty_in"}, post_only=True
    ),
    "checkpoints:my_duty": Policy(DUTY_HOME),
    "checkpoints:availability_add": Policy(
        DUTY_HOME, method="POST", data="cp_avail_form", post_only=True
    ),
    "checkpoints:availability_remove": Policy(
        OWN_AVAILABILITY, method="POST", params={"pk": "cp_avail"}, post_only=True
    ),
    # --- API
    "GET api/v1/checkpoints/checkpoints": Policy(DUTY_HOME),
    "POST api/v1/checkpoints/checkpoints": Policy(MANAGE_HOME, data="cp_new_json"),
    "PUT api/v1/checkpoints/checkpoints/<checkpoint_id>": Policy(
        MANAGE, params={"checkpoint_id": "cp_cp"}, data="cp_put_json"
    ),
    "POST api/v1/checkpoints/checkpoints/<checkpoint_id>/retire": Policy(
        MANAGE, params={"checkpoint_id": "cp_cp_retire_api"}, data="cp_empty_json"
    ),
    "POST api/v1/checkpoints/checkpoints/<checkpoint_id>/gates": Policy(
        MANAGE, params={"checkpoint_id": "cp_cp"}, data="cp_merge_json"
    ),
    "GET api/v1/checkpoints/gates": Policy(DUTY_HOME),
    "POST api/v1/checkpoints/gates": Policy(MANAGE, data="cp_gate_new_json"),
    "PUT api/v1/checkpoints/gates/<gate_id>": Policy(
        MANAGE, params={"gate_id": "cp_gate"}, data="cp_gate_put_json"
    ),
    "GET api/v1/checkpoints/policy": Policy(DUTY_HOME),
    "PUT api/v1/checkpoints/policy": Policy(MANAGE_HOME, data="cp_policy_json"),
    "GET api/v1/checkpoints/roster": Policy(DUTY_HOME),
    # The outsider generates for their own community (the walk made them a checkpoint first).
    "POST api/v1/checkpoints/roster/generate": Policy(ROSTER_HOME, data="cp_generate_json"),
    "POST api/v1/checkpoints/duties": Policy(ROSTER, data="cp_duty_json"),
    "PUT api/v1/checkpoints/duties/<duty_id>": Policy(
        ROSTER, params={"duty_id": "cp_duty_edit"}, data="cp_empty_json"
    ),
    "DELETE api/v1/checkpoints/duties/<duty_id>": Policy(
        ROSTER, params={"duty_id": "cp_duty_gone_api"}, data="cp_empty_json"
    ),
    "POST api/v1/checkpoints/duties/<duty_id>/check-in": Policy(
        CHECK_IN, params={"duty_id": "cp_duty_now"}
    ),
    "POST api/v1/checkpoints/duties/<duty_id>/check-out": Policy(
        CHECK_IN, params={"duty_id": "cp_duty_in"}
    ),
    "GET api/v1/checkpoints/my/duties": Policy(DUTY_HOME),
    "GET api/v1/checkpoints/availability": Policy(DUTY_HOME),
    "POST api/v1/checkpoints/availability": Policy(DUTY_HOME, data="cp_avail_json"),
    "DELETE api/v1/checkpoints/availability/<availability_id>": Policy(
        OWN_AVAILABILITY | MANAGE,
        params={"availability_id": "cp_avail_api"},
        data="cp_empty_json",
    ),
}


def _today():
    from django.utils import timezone

    return timezone.localdate().isoformat()


def _cp():
    from shouwang.checkpoints.models import Checkpoint

    return Checkpoint.objects.get(name="矩阵卡口", community__code="HM-T")


def _merge():
    from shouwang.checkpoints.models import Gate

    return "json", {"gate_ids": [Gate.objects.get(name="矩阵东门").pk]}


def _gate_json(name):
    def body():
        from shouwang.registry.models import Compound

        compound = Compound.objects.get(name="华美小区", community__code="HM-T")
        return "json", {
            "compound_id": compound.pk,
            "name": name,
            "opens_at": "20:00",
            "closes_at": "06:00",
        }

    return body


def _duty_json():
    from shouwang.accounts.models import User
    from shouwang.checkpoints.models import Shift

    shift = Shift.objects.filter(checkpoint=_cp()).order_by("starts_at").first()
    guard = User.objects.get(username="guard")
    return "json", {"shift_id": shift.pk, "user_id": guard.pk, "kind": "rotation"}


BODIES: dict = {
    "cp_generate_form": lambda: ("form", {"start": _today(), "days": 1}),
    "cp_avail_form": lambda: ("form", {"weekday": "2", "starts_at": "20:00", "ends_at": "06:00"}),
    "cp_new_json": lambda: ("json", {"name": "矩阵新卡口"}),
    "cp_put_json": lambda: ("json", {"name": "矩阵卡口", "note": "矩阵"}),
    "cp_empty_json": lambda: ("json", {}),
    "cp_merge_json": _merge,
    "cp_gate_new_json": _gate_json("矩阵新门"),
    "cp_gate_put_json": _gate_json("矩阵东门"),
    "cp_policy_json": lambda: ("json", {"shift_hours": 8, "rotation_hours": 2}),
    "cp_generate_json": lambda: ("json", {"start": _today(), "days": 1}),
    "cp_duty_json": _duty_json,
    "cp_avail_json": lambda: (
        "json",
        {"weekday": 1, "starts_at": "08:00", "ends_at": "12:00"},
    ),
}


def rows(personas, ledger, made) -> dict:
    """A checkpoint with a gate of 华美小区 and today's shifts; the volunteer on duty now (to
    check in), checked in already (to check out), duties to edit and remove; the volunteer's
    availability; checkpoints to retire."""
    import datetime as dt

    from django.utils import timezone

    from shouwang.checkpoints import places, roster
    from shouwang.checkpoints.models import Availability, Duty

    admin, volunteer = personas["admin"], personas["volunteer"]
    community = admin.community
    compound = ledger["h1"].building.compound
    cp = places.checkpoint_save(
        actor=admin, community=community, name="矩阵卡口", compound=compound
    )
    gate = places.gate_save(actor=admin, community=community, compound=compound, name="矩阵东门")
    now = timezone.now()
    today = timezone.localdate()
    shifts = roster.shifts_make(
        community=community, checkpoints=[cp], start=today - dt.timedelta(1), days=2
    )
    current = next(s for s in shifts if s.starts_at <= now < s.ends_at)

    def duty(user, kind="rotation", **kw):
        return Duty.objects.create(
            community=community,
            shift=current,
            user=user,
            kind=kind,
            starts_at=current.starts_at,
            ends_at=current.ends_at,
            **kw,
        )

    def avail():
        return Availability.objects.create(
            community=community,
            user=volunteer,
            weekday=0,
            starts_at=dt.time(8),
            ends_at=dt.time(12),
        )

    return {
        "cp_cp": cp,
        "cp_cp_retire": places.checkpoint_save(actor=admin, community=community, name="矩阵旧卡口"),
        "cp_cp_retire_api": places.checkpoint_save(
            actor=admin, community=community, name="矩阵旧卡口2"
        ),
        "cp_gate": gate,
        "cp_shift": current,
        "cp_duty_now": duty(volunteer),
        "cp_duty_in": duty(volunteer, checked_in_at=now),
        "cp_duty_edit": duty(personas["grid_leader"], "committee"),
        "cp_duty_gone": duty(personas["admin"], "committee"),
        "cp_duty_gone_api": duty(personas["admin"], "committee"),
        "cp_avail": avail(),
        "cp_avail_api": avail(),
    }
