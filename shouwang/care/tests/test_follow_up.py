"""Recording a follow-up: how (visit, phone, video), how it went, condition and needs; a retried
submission makes one follow-up; the person's page and the list show it."""

import datetime as dt

import pytest
from django.utils import timezone

from shouwang.care import services
from shouwang.care.models import FollowUp
from shouwang.care.testing import make_follow_up, make_pairing
from shouwang.care.tests.helpers_care import tag
from shouwang.core.errors import DomainError

pytestmark = pytest.mark.django_db


def test_record_links_the_pairing_and_household(personas, ledger):
    r1 = tag(ledger["r1"])
    p = make_pairing(r1, carer=personas["staff"])
    fu = services.record_follow_up(
        actor=personas["staff"],
        resident=r1,
        mode="visit",
        outcome="concern",
        condition="血压偏高",
        needs="需要降压药",
    )
    assert fu.pairing == p and fu.household == ledger["h1"] and fu.by == personas["staff"]
    assert fu.request is None


def test_the_same_client_key_makes_one_follow_up(personas, ledger):
    r1 = tag(ledger["r1"])
    kw = {
        "actor": personas["staff"],
        "resident": r1,
        "mode": "phone",
        "outcome": "well",
        "client_key": "k1",
    }
    a = services.record_follow_up(**kw)
    b = services.record_follow_up(**kw)
    assert a.pk == b.pk and FollowUp.objects.count() == 1


@pytest.mark.parametrize(
    "kw, field",
    [
        ({"mode": "letter"}, "mode"),
        ({"outcome": "fine"}, "outcome"),
        ({"outcome": "concern"}, "condition"),  # a concern says what it is
        ({"at": timezone.now() + dt.timedelta(hours=1)}, "at"),
        ({"at": timezone.now() - dt.timedelta(days=8)}, "at"),
    ],
)
def test_refusals(personas, ledger, kw, field):
    args = {"mode": "phone", "outcome": "well", **kw}
    with pytest.raises(DomainError) as e:
        services.record_follow_up(actor=personas["staff"], resident=ledger["r1"], **args)
    assert field in e.value.fields
    assert not FollowUp.objects.exists()


def test_the_person_page_records_a_follow_up(client, personas, ledger):
    r1 = tag(ledger["r1"])
    client.force_login(personas["grid_leader"])
    page = client.get(f"/care/people/{r1.pk}/").content.decode()
    assert "Never contacted" in page and 'name="client_key"' in page
    resp = client.post(
        f"/care/people/{r1.pk}/follow-up/",
        {
            "mode": "video",
            "outcome": "concern",
            "condition": "咳嗽三天",
            "needs": "",
            "client_key": "abc",
        },
    )
    assert resp.status_code == 302
    fu = FollowUp.objects.get()
    assert (fu.mode, fu.outcome, fu.condition, fu.by) == (
        "video",
        "concern",
        "咳嗽三天",
        personas["grid_leader"],
    )
    page = client.get(f"/care/people/{r1.pk}/").content.decode()
    assert "咳嗽三天" in page and "Followed up" in page
    # A bad form stays on the page with the message on its field.
    resp = client.post(f"/care/people/{r1.pk}/follow-up/", {"mode": "phone", "outcome": "concern"})
    assert resp.status_code == 400 and "Say what the concern is" in resp.content.decode()


def test_the_list_page_shows_overdue_in_red_with_days(client, personas, ledger):
    r1, r2 = tag(ledger["r1"]), tag(ledger["r2"])
    make_follow_up(r1, at=timezone.now() - dt.timedelta(days=3))
    make_follow_up(r2)
    make_pairing(r2, carer=personas["staff"])
    client.force_login(personas["staff"])
    page = client.get("/care/").content.decode()
    assert "care-row is-overdue" in page and "3 days since last contact" in page
    assert page.index("王小明") < page.index("李四")  # overdue first
    mine = client.get("/care/?mine=1").content.decode()
    assert "李四" in mine and "王小明" not in mine
    unpaired = client.get("/care/?unpaired=1").content.decode()
    assert "王小明" in unpaired and "李四" not in unpaired


def test_health_notes_stay_off_pages_of_other_roles(client, personas, ledger):
    r1 = tag(ledger["r1"])
    make_follow_up(r1, condition="抑郁情绪", needs="心理疏导")
    for persona in ("volunteer", "guard", "resident"):
        client.force_login(personas[persona])
        resp = client.get(f"/care/people/{r1.pk}/")
        assert resp.status_code == 403 and "抑郁情绪" not in resp.content.decode()
    client.force_login(personas["outsider"])
    assert client.get(f"/care/people/{r1.pk}/").status_code == 404
