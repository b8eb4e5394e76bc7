"""Part of the screening app's permission matrix (see tests/matrix.py): rounds, sampling points,
results and door-to-door lists."""

from __future__ import annotations

from shouwang.core.tests.matrix_policy import Policy

# screening.sample: the office, grid leaders, samplers and volunteers; the outsider sees their
# own community's list.
SAMPLE = frozenset({"admin", "staff", "grid_leader", "sampler", "volunteer"})
SAMPLE_HOME = SAMPLE | {"outsider"}
# screening.manage (rounds, points, lists): the office; forms without an id for the outsider too.
MANAGE = frozenset({"admin", "staff"})
MANAGE_FORM = MANAGE | {"outsider"}
# screening.results: the office.
RESULTS = frozenset({"admin", "staff"})

ROUND = {"pk": "sc_round"}
API_ROUND = {"round_id": "sc_round"}

EXPECTED: dict = {
    "screening:index": Policy(SAMPLE_HOME),
    "screening:round_new": Policy(MANAGE_FORM),
    "screening:round": Policy(SAMPLE, params=ROUND),
    "screening:round_edit": Policy(MANAGE, params=ROUND),
    "screening:round_close": Policy(
        MANAGE, method="POST", params={"pk": "sc_round_closing"}, post_only=True
    ),
    "screening:points": Policy(SAMPLE_HOME),
    "screening:point_new": Policy(MANAGE_FORM),
    "screening:point_edit": Policy(MANAGE, params={"pk": "sc_point"}),
    "screening:lane_add": Policy(
        MANAGE, method="POST", params={"pk": "sc_point"}, data="sc_lane_form", post_only=True
    ),
    "screening:lane_delete": Policy(
        MANAGE, method="POST", params={"pk": "sc_lane"}, post_only=True
    ),
    "screening:results": Policy(RESULTS, params=ROUND),
    "screening:tube": Policy(RESULTS, params={"pk": "sc_tube"}),
    "screening:visits": Policy(SAMPLE, params=ROUND),
    "screening:visit_list_new": Policy(MANAGE, params=ROUND),
    "screening:visit_list": Policy(SAMPLE, params={"pk": "sc_list"}),
    "screening:visit_list_print": Policy(SAMPLE, params={"pk": "sc_list"}),
    "screening:visit_record": Policy(
        SAMPLE, method="POST", params={"pk": "sc_visit"}, data="sc_visit_form", post_only=True
    ),
    "GET api/v1/screening/rounds": Policy(SAMPLE_HOME),
    "POST api/v1/screening/rounds": Policy(MANAGE_FORM, data="sc_round_json"),
    "GET api/v1/screening/rounds/<round_id>": Policy(SAMPLE, params=API_ROUND),
    "PUT api/v1/screening/rounds/<round_id>": Policy(
        MANAGE, params=API_ROUND, data="sc_round_json"
    ),
    "POST api/v1/screening/rounds/<round_id>/close": Policy(
        MANAGE, params={"round_id": "sc_round_closing"}
    ),
    "GET api/v1/screening/points": Policy(SAMPLE_HOME),
    "POST api/v1/screening/points": Policy(MANAGE_FORM, data="sc_point_json"),
    "PUT api/v1/screening/points/<point_id>": Policy(
        MANAGE, params={"point_id": "sc_point"}, data="sc_point_put_json"
    ),
    "POST api/v1/screening/points/<point_id>/lanes": Policy(
        MANAGE, params={"point_id": "sc_point"}, data="sc_lane_json"
    ),
    "DELETE api/v1/screening/lanes/<lane_id>": Policy(
        MANAGE, params={"lane_id": "sc_lane_api"}, data="sc_empty_json"
    ),
    "POST api/v1/screening/rounds/<round_id>/results": Policy(
        RESULTS, params=API_ROUND, data="sc_results_file"
    ),
    "POST api/v1/screening/tubes/<tube_id>/result": Policy(
        RESULTS, params={"tube_id": "sc_tube"}, data="sc_result_json"
    ),
    "GET api/v1/screening/rounds/<round_id>/visit-lists": Policy(SAMPLE, params=API_ROUND),
    "POST api/v1/screening/rounds/<round_id>/visit-lists": Policy(
        MANAGE, params=API_ROUND, data="sc_list_json"
    ),
    "GET api/v1/screening/visit-lists/<list_id>": Policy(SAMPLE, params={"list_id": "sc_list"}),
    "POST api/v1/screening/visits/<visit_id>/record": Policy(
        SAMPLE, params={"visit_id": "sc_visit"}, data="sc_record_json"
    ),
}


def _results_file():
    from django.core.files.uploadedfile import SimpleUploadedFile

    body = "管号,结果,CT值\nMX-0001,阴性,\n".encode()
    return "form", {"file": SimpleUploadedFile("lab.csv", body, content_type="text/csv")}


def _list_json():
    from shouwang.registry.models import Household

    return "json", {
        "reason": "requested",
        "household_ids": [Household.objects.get(dwelling__door="102", community__code="HM-T").pk],
    }


BODIES: dict = {
    "sc_lane_form": lambda: (
        "form",
        {"kind": "students", "starts_at": "11:30", "ends_at": "13:00"},
    ),
    "sc_visit_form": lambda: ("form", {"status": "visited", "note": "已上门"}),
    "sc_round_json": lambda: (
        "json",
        {"kind": "mass", "date": "2022-04-12", "starts_at": "07:00", "ends_at": "11:00"},
    ),
    "sc_point_json": lambda: (
        "json",
        {"name": "矩阵采样点", "kind": "street", "opens_at": "07:00", "closes_at": "19:00"},
    ),
    "sc_point_put_json": lambda: (
        "json",
        {"name": "华美小区东门", "kind": "compound", "opens_at": "07:00", "closes_at": "20:00"},
    ),
    "sc_lane_json": lambda: ("json", {"kind": "elderly", "starts_at": "08:00", "ends_at": "09:00"}),
    "sc_results_file": _results_file,
    "sc_empty_json": lambda: ("json", {}),
    "sc_result_json": lambda: ("json", {"result": "negative"}),
    "sc_list_json": _list_json,
    "sc_record_json": lambda: ("json", {"status": "not_home", "note": "敲门无人"}),
}


def rows(personas, ledger, made: dict) -> dict:
    """A round with a point, a lane, a tube holding r1 and a requested list (h1); a round to
    close."""
    import datetime as dt

    from django.utils import timezone

    from shouwang.screening import services, visits
    from shouwang.screening.models import Sample, Tube

    admin = personas["admin"]
    community = admin.community
    today = timezone.localdate()
    point = services.point_save(
        actor=admin,
        community=community,
        name="华美小区东门",
        kind="compound",
        opens_at=dt.time(7),
        closes_at=dt.time(19),
    )

    def lane():
        return services.lane_add(
            actor=admin, point=point, kind="elderly", starts_at=dt.time(8), ends_at=dt.time(9)
        )

    def rnd(number):
        return services.round_save(
            actor=admin,
            community=community,
            kind="mass",
            number=number,
            date=today,
            starts_at=dt.time(7),
            ends_at=dt.time(11),
            points=[point],
        )

    r = rnd(1)
    now = timezone.now()
    tube = Tube.objects.create(
        community=community, round=r, code="MX-0001", capacity=10, point=point, opened_at=now
    )
    Sample.objects.create(
        community=community,
        round=r,
        tube=tube,
        resident=ledger["r1"],
        point=point,
        device_at=now,
        server_at=now,
    )
    vl = visits.visit_list_make(actor=admin, rnd=r, reason="requested", households=[ledger["h1"]])
    return {
        "sc_round": r,
        "sc_round_closing": rnd(2),
        "sc_point": point,
        "sc_lane": lane(),
        "sc_lane_api": lane(),
        "sc_tube": tube,
        "sc_list": vl,
        "sc_visit": vl.visits.get(),
    }
