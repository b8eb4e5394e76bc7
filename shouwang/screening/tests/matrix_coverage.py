"""Part of the screening app's permission matrix (see tests/matrix.py): coverage, the missing
list and call list, notices, progress, exemptions, the roll-up and antigen results."""

from __future__ import annotations

from shouwang.core.tests.matrix_policy import HOUSEHOLD_PAGE, ROLLUP, Policy

# screening.coverage / screening.antigen: the office and the grid leader (rows of grid A, which
# the fixture's grid leader leads). The outsider's rows are elsewhere: ours are a 404 for them.
COVERAGE = frozenset({"admin", "staff", "grid_leader"})
# Pages without an id: the outsider works on their own community.
COVERAGE_HOME = COVERAGE | {"outsider"}

ROUND = {"pk": "cv_round"}
API_ROUND = {"round_id": "cv_round"}

EXPECTED: dict = {
    "screening:coverage": Policy(COVERAGE, params=ROUND),
    "screening:coverage_building": Policy(
        COVERAGE, params={"pk": "cv_round", "building_pk": "cv_building"}
    ),
    "screening:missing": Policy(COVERAGE, params=ROUND),
    "screening:missing_xlsx": Policy(COVERAGE, params=ROUND),
    "screening:notice": Policy(COVERAGE, params=ROUND),
    "screening:progress": Policy(COVERAGE, params=ROUND),
    "screening:exemptions": Policy(COVERAGE, params=ROUND),
    "screening:exemption_remove": Policy(
        COVERAGE, method="POST", params={"pk": "cv_exempt"}, post_only=True
    ),
    "screening:rollup": Policy(ROLLUP),
    "screening:antigen_report": Policy(
        HOUSEHOLD_PAGE,
        method="POST",
        params={"hh": "h1"},
        data="cv_antigen_form",
        post_only=True,
        anonymous="refuse",
    ),
    "screening:antigen_entry": Policy(COVERAGE_HOME),
    "screening:antigen_record": Policy(
        COVERAGE, method="POST", data="cv_antigen_form", post_only=True
    ),
    "screening:antigen_photo": Policy(COVERAGE, params={"pk": "cv_photo"}),
    "GET api/v1/screening/rounds/<round_id>/coverage": Policy(COVERAGE, params=API_ROUND),
    "GET api/v1/screening/rounds/<round_id>/coverage/buildings/<building_id>": Policy(
        COVERAGE, params={"round_id": "cv_round", "building_id": "cv_building"}
    ),
    "GET api/v1/screening/rounds/<round_id>/missing": Policy(COVERAGE, params=API_ROUND),
    "GET api/v1/screening/rounds/<round_id>/exemptions": Policy(COVERAGE, params=API_ROUND),
    "POST api/v1/screening/rounds/<round_id>/exemptions": Policy(
        COVERAGE, params=API_ROUND, data="cv_exempt_json"
    ),
    "DELETE api/v1/screening/exemptions/<exemption_id>": Policy(
        COVERAGE, params={"exemption_id": "cv_exempt_api"}, data="cv_empty_json"
    ),
    "GET api/v1/screening/antigen": Policy(COVERAGE_HOME),
    "POST api/v1/screening/antigen": Policy(COVERAGE, data="cv_antigen_json"),
}


def _r1() -> int:
    from shouwang.registry.models import Resident

    return Resident.objects.get(name="王小明").pk


BODIES: dict = {
    # The matrix sends a body with every method but GET and POST: an empty one.
    "cv_empty_json": lambda: ("json", {}),
    "cv_antigen_form": lambda: ("form", {"resident": _r1(), "result": "negative"}),
    "cv_antigen_json": lambda: ("json", {"resident_id": _r1(), "result": "negative"}),
    "cv_exempt_json": lambda: ("json", {"resident_id": _r1(), "reason": "away", "note": "出差"}),
}


def rows(personas, ledger, made: dict) -> dict:
    """A mass round today over the whole community (r1 sampled), exemptions of r2 and r1b (grid
    A) to remove, and an antigen report of r1 with a photo."""
    import datetime as dt

    from django.core.files.base import ContentFile
    from django.utils import timezone

    from shouwang.screening.models import AntigenReport, Exemption, Round, Sample, Tube

    community = ledger["h1"].community
    now = timezone.now()
    rnd = Round.objects.create(
        community=community,
        kind="mass",
        number=9001,
        date=timezone.localdate(),
        starts_at=dt.time(7, 0),
        ends_at=dt.time(17, 0),
    )
    tube = Tube.objects.create(
        community=community, round=rnd, code="CV-MATRIX-1", capacity=10, opened_at=now
    )
    Sample.objects.create(
        community=community,
        round=rnd,
        tube=tube,
        resident=ledger["r1"],
        device_at=now,
        server_at=now,
    )

    def exempt(resident):
        return Exemption.objects.create(
            community=community, round=rnd, resident=resident, reason="hospital"
        )

    report = AntigenReport(
        community=community,
        resident=ledger["r1"],
        date=timezone.localdate() - dt.timedelta(days=1),
        result="negative",
    )
    report.photo.save("matrix.jpg", ContentFile(b"\xff\xd8\xff\xe0matrix\xff\xd9"), save=False)
    report.save()
    return {
        "cv_round": rnd,
        "cv_building": ledger["h1"].building,
        "cv_exempt": exempt(ledger["r2"]),
        "cv_exempt_api": exempt(ledger["r1b"]),
        "cv_photo": report,
    }
