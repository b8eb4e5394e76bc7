"""A request's work: take it, assign it, note, resolve (or could not), call back, reopen — the
service's rules and the buttons of the request's page."""

import datetime as dt

import pytest
from django.utils import timezone

from shouwang.core.errors import Conflict, DomainError, Forbidden
from shouwang.core.testing import make_user
from shouwang.helpline import intake
from shouwang.helpline.models import Answer, EventKind, Satisfaction, Status, Urgency
from shouwang.helpline.testing import make_request

pytestmark = pytest.mark.django_db


def _answer(community, **kw):
    return Answer.objects.create(
        community=community,
        question="封控期间能否出小区？",
        body="不能，需要就医请联系热线。",
        checked_on=timezone.localdate(),
        **kw,
    )


def test_the_whole_way_to_closed(community, personas):
    staff, admin = personas["staff"], personas["admin"]
    req = make_request(community, actor=admin)
    req = intake.assign(admin, req, staff, text="请跟进")
    req = intake.start(staff, req)
    assert req.status == Status.IN_PROGRESS
    intake.note(staff, req, "已联系社区卫生站")
    answer = _answer(community)
    req = intake.resolve(staff, req, resolution="药已送到", answer=answer)
    assert req.status == Status.RESOLVED and req.resolved_by == staff
    assert req.resolved_at is not None and req.answer == answer
    answer.refresh_from_db()
    assert answer.quoted == 1
    req = intake.callback(staff, req, satisfaction=Satisfaction.SATISFIED, text="谢谢")
    req.refresh_from_db()
    assert req.status == Status.CLOSED and req.satisfaction == "satisfied"
    assert req.callback_by == staff and req.callback_note == "谢谢"
    kinds = [e.kind for e in req.events.all()]
    assert kinds == [
        EventKind.LOGGED,
        EventKind.ASSIGNED,
        EventKind.STATUS,
        EventKind.NOTE,
        EventKind.RESOLVED,
        EventKind.CALLBACK,
    ]
    assigned = req.events.get(kind=EventKind.ASSIGNED)
    assert assigned.to_user == staff and assigned.from_user is None and assigned.by == admin


def test_taking_an_unowned_request_makes_it_mine(community, personas):
    gl = personas["grid_leader"]
    req = intake.start(gl, make_request(community))
    assert req.owner == gl and req.status == Status.IN_PROGRESS


def test_someone_elses_request_is_theirs_or_the_offices(community, personas):
    staff, gl, admin = personas["staff"], personas["grid_leader"], personas["admin"]
    req = make_request(community, owner=staff)
    for act in (
        lambda: intake.start(gl, req),
        lambda: intake.assign(gl, req, gl),
        lambda: intake.resolve(gl, req, resolution="x"),
    ):
        with pytest.raises(Forbidden):
            act()
    # helpline.manage (the admin) may step in.
    assert intake.assign(admin, req, gl).owner == gl
    # Anyone on duty may add a note.
    intake.note(staff, req, "已电话联系")


def test_the_owner_must_take_calls_in_the_community(community, other_community, personas):
    req = make_request(community)
    with pytest.raises(DomainError) as e:
        intake.assign(personas["admin"], req, personas["guard"])
    assert "owner" in e.value.fields
    with pytest.raises(DomainError):
        intake.assign(personas["admin"], req, personas["outsider"])
    stranger = make_user("staff", other_community)
    with pytest.raises(DomainError):
        intake.assign(personas["admin"], req, stranger)


def test_resolve_needs_words_and_a_live_request(community, personas):
    staff = personas["staff"]
    req = make_request(community)
    with pytest.raises(DomainError) as e:
        intake.resolve(staff, req, resolution="  ")
    assert "resolution" in e.value.fields
    req = intake.resolve(staff, req, resolution="无法联系到药店", resolved=False)
    assert req.status == Status.UNRESOLVED
    with pytest.raises(Conflict):
        intake.resolve(staff, req, resolution="again")


def test_only_a_current_answer_of_the_community_is_quoted(community, other_community, personas):
    staff = personas["staff"]
    retired = _answer(community, is_active=False)
    foreign = _answer(other_community)
    for a in (retired, foreign):
        with pytest.raises(DomainError) as e:
            intake.resolve(staff, make_request(community), resolution="已答复", answer=a)
        assert "answer" in e.value.fields
    retired.refresh_from_db()
    assert retired.quoted == 0


def test_call_back_only_after_the_resolution(community, personas):
    staff = personas["staff"]
    req = make_request(community)
    with pytest.raises(Conflict) as e:
        intake.callback(staff, req, satisfaction="satisfied")
    assert e.value.code == "not_resolved"
    req = intake.resolve(staff, req, resolution="已办")
    with pytest.raises(DomainError) as e:
        intake.callback(staff, req, satisfaction="happy")
    assert "satisfaction" in e.value.fields
    req = intake.callback(staff, req, satisfaction=Satisfaction.UNREACHABLE)
    with pytest.raises(Conflict) as e:
        intake.callback(staff, req, satisfaction="satisfied")
    assert e.value.code == "closed"


def test_reopen_puts_it_back_on_the_desk_due_again(community, personas):
    staff = personas["staff"]
    t0 = timezone.now() - dt.timedelta(days=3)
    req = make_request(community, owner=staff, at=t0, urgency=Urgency.HARDSHIP)
    req = intake.resolve(staff, req, resolution="已办", at=t0 + dt.timedelta(hours=1))
    req = intake.callback(staff, req, satisfaction="dissatisfied", at=t0 + dt.timedelta(hours=2))
    with pytest.raises(DomainError) as e:
        intake.reopen(staff, req, reason="")
    assert "reason" in e.value.fields
    now = timezone.now()
    req = intake.reopen(staff, req, reason="药不对", at=now)
    req.refresh_from_db()
    assert req.status == Status.IN_PROGRESS  # it has an owner
    assert req.due_at == now + dt.timedelta(hours=24)
    assert req.resolved_at is None and req.satisfaction == "" and req.callback_at is None
    assert req.events.last().kind == EventKind.REOPENED
    with pytest.raises(Conflict):
        intake.reopen(staff, req, reason="again")
    unowned = intake.resolve(staff, make_request(community), resolution="已答复")
    assert intake.reopen(staff, unowned, reason="又来电").status == Status.OPEN


# --- the request's page -----------------------------------------------------------------------


def test_the_page_buttons_work_the_request(client, community, personas, ledger):
    staff, admin = personas["staff"], personas["admin"]
    req = make_request(community, actor=admin, household=ledger["h1"], caller_phone="13912345678")
    client.force_login(admin)
    url = f"/helpline/requests/{req.pk}/"
    page = client.get(url).content.decode()
    assert "Assign to someone" in page and "13912345678" in page  # the number, to call back
    r = client.post(f"{url}assign/", {"owner": staff.pk}, follow=True)
    assert "Assigned to staff." in r.content.decode()
    client.force_login(staff)
    client.post(f"{url}start/")
    client.post(f"{url}note/", {"text": "已买到药"})
    r = client.post(
        f"{url}resolve/", {"outcome": "resolved", "resolution": "药已送到"}, follow=True
    )
    assert "now call the resident back" in r.content.decode()
    assert "Called back: close it" in r.content.decode()
    r = client.post(f"{url}callback/", {"satisfaction": "satisfied"}, follow=True)
    req.refresh_from_db()
    assert req.status == Status.CLOSED and req.owner == staff
    page = r.content.decode()
    assert "the request is closed" in page and "Satisfied" in page and "已买到药" in page


def test_a_refusal_is_a_message_on_the_page(client, community, personas):
    client.force_login(personas["staff"])
    req = make_request(community)
    r = client.post(f"/helpline/requests/{req.pk}/callback/", {"satisfaction": "x"}, follow=True)
    assert "Resolve the request first" in r.content.decode()
    r = client.post(f"/helpline/requests/{req.pk}/resolve/", {"resolution": ""}, follow=True)
    assert "Say what was done." in r.content.decode()
    req.refresh_from_db()
    assert req.status == Status.OPEN


def test_someone_elses_request_shows_no_buttons_and_refuses_them(
    client, community, personas, ledger
):
    gl = personas["grid_leader"]
    req = make_request(community, household=ledger["h1"], owner=personas["staff"])
    client.force_login(gl)
    page = client.get(f"/helpline/requests/{req.pk}/").content.decode()
    assert "Save the outcome" not in page and "owns this request" in page
    assert "13912345678" not in page
    r = client.post(f"/helpline/requests/{req.pk}/resolve/", {"resolution": "x"})
    assert r.status_code == 403
    req.refresh_from_db()
    assert req.status == Status.OPEN


def test_call_back_on_an_unresolved_request_keeps_it_unresolved(community, personas):
    """The statistics count RESOLVED and CLOSED as resolved: a call-back must not turn a request
    that could not be resolved into a resolved one."""
    staff = personas["staff"]
    req = intake.resolve(staff, make_request(community), resolution="药店缺货", resolved=False)
    req = intake.callback(staff, req, satisfaction=Satisfaction.DISSATISFIED, text="还在等")
    req.refresh_from_db()
    assert req.status == Status.UNRESOLVED
    assert (req.satisfaction, req.callback_note) == (Satisfaction.DISSATISFIED, "还在等")
    assert req.callback_at is not None
    with pytest.raises(Conflict) as e:
        intake.callback(staff, req, satisfaction=Satisfaction.SATISFIED)
    assert e.value.code == "closed"
