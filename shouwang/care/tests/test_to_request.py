"""A need found on a follow-up becomes a help-line request in one step: channel "care follow-up",
the person and household filled in, the need as the summary; never twice for one follow-up."""

import pytest

from shouwang.care import services
from shouwang.care.models import FollowUp
from shouwang.care.testing import make_follow_up
from shouwang.care.tests.helpers_care import tag
from shouwang.core.errors import DomainError
from shouwang.helpline.models import Channel, EventKind, Group, HelpRequest, Urgency
from shouwang.helpline.testing import category

pytestmark = pytest.mark.django_db


def test_one_step_and_once_only(personas, ledger, community):
    r1 = tag(ledger["r1"])
    fu = make_follow_up(r1, needs="需要买降压药\n常吃的那种", by=personas["staff"])
    cat = category(community, Group.LIVELIHOOD)
    req = services.need_to_request(actor=personas["staff"], follow_up=fu, category=cat)
    assert req.channel == Channel.FOLLOW_UP
    assert (req.resident, req.household, req.category) == (r1, ledger["h1"], cat)
    assert req.summary == "王小明：需要买降压药" and "常吃的那种" in req.details
    assert req.urgency == Urgency.HARDSHIP
    assert req.events.filter(kind=EventKind.LOGGED).exists()
    fu.refresh_from_db()
    assert fu.request == req
    again = services.need_to_request(
        actor=personas["admin"], follow_up=fu, category=category(community, Group.SPECIAL)
    )
    assert again.pk == req.pk and HelpRequest.objects.count() == 1


def test_no_need_no_request(personas, ledger, community):
    fu = make_follow_up(tag(ledger["r1"]))
    with pytest.raises(DomainError) as e:
        services.need_to_request(
            actor=personas["staff"], follow_up=fu, category=category(community)
        )
    assert "needs" in e.value.fields
    assert not HelpRequest.objects.exists()


def test_recorded_and_requested_in_one_form(client, personas, ledger, community):
    r1 = tag(ledger["r1"])
    cat = category(community, Group.SPECIAL, 1)  # a hospital visit
    client.force_login(personas["grid_leader"])
    resp = client.post(
        f"/care/people/{r1.pk}/follow-up/",
        {
            "mode": "visit",
            "outcome": "concern",
            "condition": "透析日",
            "needs": "周三要去医院透析",
            "make_request": "on",
            "category": cat.pk,
            "urgency": Urgency.HEALTH,
            "owner": personas["staff"].pk,
            "client_key": "once",
        },
        follow=True,
    )
    req = HelpRequest.objects.get()
    assert (req.category, req.urgency, req.owner, req.resident) == (
        cat,
        Urgency.HEALTH,
        personas["staff"],
        r1,
    )
    assert FollowUp.objects.get().request == req
    page = resp.content.decode()
    assert req.reference in page
    # A double submit of the same form: one follow-up, one request.
    client.post(
        f"/care/people/{r1.pk}/follow-up/",
        {"mode": "visit", "outcome": "well", "client_key": "once"},
    )
    assert FollowUp.objects.count() == 1 and HelpRequest.objects.count() == 1


def test_make_request_needs_a_category_and_a_need(client, personas, ledger):
    r1 = tag(ledger["r1"])
    client.force_login(personas["staff"])
    resp = client.post(
        f"/care/people/{r1.pk}/follow-up/",
        {"mode": "phone", "outcome": "well", "make_request": "on", "needs": ""},
    )
    assert resp.status_code == 400
    assert not FollowUp.objects.exists() and not HelpRequest.objects.exists()


def test_a_later_follow_ups_need_from_the_history(client, personas, ledger, community):
    r1 = tag(ledger["r1"])
    fu = make_follow_up(r1, needs="煤气没了")
    client.force_login(personas["staff"])
    page = client.get(f"/care/people/{r1.pk}/").content.decode()
    assert f"/care/follow-ups/{fu.pk}/request/" in page
    cat = category(community, Group.LIVELIHOOD, 1)
    client.post(f"/care/follow-ups/{fu.pk}/request/", {"category": cat.pk, "urgency": Urgency.NONE})
    client.post(f"/care/follow-ups/{fu.pk}/request/", {"category": cat.pk, "urgency": Urgency.NONE})
    req = HelpRequest.objects.get()
    assert req.category == cat and req.summary == "王小明：煤气没了"
    # Another community's category is refused.
    other = category(ledger["ro"].community, Group.LIVELIHOOD)
    fu2 = make_follow_up(r1, needs="想买菜")
    resp = client.post(
        f"/care/follow-ups/{fu2.pk}/request/", {"category": other.pk, "urgency": 3}, follow=True
    )
    assert HelpRequest.objects.count() == 1
    assert resp.status_code == 200
