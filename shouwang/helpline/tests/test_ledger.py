"""The ledger: urgent live requests first for everyone on duty, the filters, the scope; and the
urgent banner's context processor (one query for those on duty, none for anyone else)."""

import datetime as dt

import pytest
from django.db import connection
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from shouwang.helpline import intake
from shouwang.helpline.context_processors import urgent
from shouwang.helpline.models import Group, Urgency
from shouwang.helpline.testing import make_request

pytestmark = pytest.mark.django_db


def _ids(resp, key="rows"):
    return [r.pk for r in resp.context[key]]


def test_urgent_requests_come_first_for_everyone_on_duty(client, community, personas, ledger):
    calm = make_request(community, household=ledger["h1"], summary="问封控政策")
    life = make_request(community, household=ledger["h1"], urgency=Urgency.LIFE, summary="老人胸痛")
    health = make_request(community, group=Group.SPECIAL, urgency=Urgency.HEALTH, summary="透析")
    done = make_request(community, urgency=Urgency.LIFE, summary="已处理")
    intake.resolve(personas["admin"], done, resolution="已送医")
    for who in ("admin", "staff"):
        client.force_login(personas[who])
        resp = client.get("/helpline/")
        assert _ids(resp, "urgent") == [life.pk, health.pk]
        assert _ids(resp)[:3] == [life.pk, health.pk, calm.pk]
        page = resp.content.decode()
        assert page.index("老人胸痛") < page.index("问封控政策")
    # The grid leader's urgent list is their grid's.
    client.force_login(personas["grid_leader"])
    assert _ids(client.get("/helpline/"), "urgent") == [life.pk]


def test_the_filters(client, community, personas, ledger):
    staff, admin = personas["staff"], personas["admin"]
    now = timezone.now()
    old = make_request(
        community, household=ledger["h1"], at=now - dt.timedelta(days=2), summary="逾期的"
    )
    mine = make_request(
        community, household=ledger["h3"], owner=staff, caller_phone="13512340077", summary="我的"
    )
    policy = make_request(community, group=Group.POLICY, summary="政策咨询")
    resolved = intake.resolve(admin, make_request(community, summary="待回访"), resolution="已办")
    client.force_login(staff)
    assert set(_ids(client.get("/helpline/"))) == {old.pk, mine.pk, policy.pk}
    assert _ids(client.get("/helpline/?show=mine")) == [mine.pk]
    assert _ids(client.get("/helpline/?show=overdue")) == [old.pk]
    assert _ids(client.get("/helpline/?show=callback")) == [resolved.pk]
    assert len(_ids(client.get("/helpline/?show=all"))) == 4
    assert _ids(client.get("/helpline/?show=all&status=resolved")) == [resolved.pk]
    assert _ids(client.get("/helpline/?group=policy")) == [policy.pk]
    grid_b = ledger["h3"].building.grid_id
    assert _ids(client.get(f"/helpline/?grid={grid_b}")) == [mine.pk]
    # Search: the reference as read out, the phone's last four, words of the summary.
    assert _ids(client.get(f"/helpline/?q={mine.reference.lower()}")) == [mine.pk]
    assert _ids(client.get(f"/helpline/?q={mine.reference[1:]}")) == [mine.pk]
    assert _ids(client.get("/helpline/?q=0077")) == [mine.pk]
    assert _ids(client.get("/helpline/?q=5678")) == []  # r1's tail: no request is about r1
    assert _ids(client.get("/helpline/?q=政策")) == [policy.pk]
    resp = client.get("/helpline/")
    assert resp.context["counts"] == {"open": 3, "overdue": 1, "mine": 1, "callback": 1}
    assert "overdue since" in resp.content.decode()


def test_the_resident_phone_tail_finds_their_requests(client, community, personas, ledger):
    req = make_request(community, resident=ledger["r1"])
    client.force_login(personas["staff"])
    assert _ids(client.get("/helpline/?q=5678")) == [req.pk]


def test_the_grid_leader_sees_their_grid_and_what_they_own(client, community, personas, ledger):
    gl = personas["grid_leader"]
    a = make_request(community, household=ledger["h1"])
    b = make_request(community, household=ledger["h3"])
    theirs = make_request(community, household=ledger["h3"], owner=gl)
    unplaced = make_request(community)
    client.force_login(gl)
    resp = client.get("/helpline/")
    assert set(_ids(resp)) == {a.pk, theirs.pk}
    assert not resp.context["grids"]  # no grid filter for a grid leader
    assert client.get(f"/helpline/requests/{b.pk}/").status_code == 404
    assert client.get(f"/helpline/requests/{unplaced.pk}/").status_code == 404
    client.force_login(personas["outsider"])
    assert _ids(client.get("/helpline/?show=all")) == []
    assert client.get(f"/helpline/requests/{a.pk}/").status_code == 404


def test_roles_without_the_help_line_are_refused(client, personas):
    for who in ("guard", "volunteer", "resident"):
        client.force_login(personas[who])
        assert client.get("/helpline/").status_code == 403


# --- the urgent banner ------------------------------------------------------------------------


def _ctx(user):
    request = RequestFactory().get("/")
    request.user = user
    return urgent(request)


def test_the_banner_is_one_query_with_the_count_and_the_first_few(community, personas, ledger):
    for i in range(7):
        make_request(community, urgency=Urgency.LIFE if i < 2 else Urgency.HEALTH, summary=f"急{i}")
    make_request(community, urgency=Urgency.HARDSHIP, summary="不急")
    ctx = _ctx(personas["staff"])
    with CaptureQueriesContext(connection) as q:
        banner = ctx["helpline_urgent"]
        assert banner.count == 7
        assert len(banner.items) == 5
        assert [r.urgency for r in banner.items][:2] == [Urgency.LIFE, Urgency.LIFE]
        html = render_to_string("helpline/_urgent.html", ctx)
    assert len(q.captured_queries) == 1
    assert "7 urgent requests open" in html and "急0" in html and "不急" not in html


def test_no_banner_and_no_query_for_others_or_when_calm(community, personas, ledger):
    make_request(community, urgency=Urgency.LIFE)
    for who in ("guard", "volunteer", "resident", "district"):
        with CaptureQueriesContext(connection) as q:
            assert _ctx(personas[who]) == {}
        assert len(q.captured_queries) == 0
    calm = _ctx(personas["outsider"])  # on duty in a community with nothing urgent
    assert calm["helpline_urgent"].count == 0
    assert render_to_string("helpline/_urgent.html", calm).strip() == ""


def test_the_banner_keeps_to_the_grid(community, personas, ledger):
    make_request(community, household=ledger["h3"], urgency=Urgency.LIFE)
    assert _ctx(personas["grid_leader"])["helpline_urgent"].count == 0
    assert _ctx(personas["staff"])["helpline_urgent"].count == 1


def test_the_callers_number_in_full_is_logged_and_only_for_who_works_it(
    client, community, personas, ledger
):
    from shouwang.core.models import AuditEvent

    req = make_request(
        community, household=ledger["h1"], caller_phone="13912345678", owner=personas["staff"]
    )
    client.force_login(personas["staff"])
    page = client.get(f"/helpline/requests/{req.pk}/").content.decode()
    assert "+8613912345678" in page
    shown = AuditEvent.objects.filter(action="helpline.caller_phone", target_id=str(req.pk))
    assert [(e.actor, e.field) for e in shown] == [(personas["staff"], "caller_phone")]
    # The grid leader sees the request (their grid) but does not work it: masked, nothing logged.
    client.force_login(personas["grid_leader"])
    page = client.get(f"/helpline/requests/{req.pk}/").content.decode()
    assert "+8613912345678" not in page and req.caller_phone_masked in page
    assert shown.count() == 1
