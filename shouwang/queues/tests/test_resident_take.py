"""Taking a number from the household page: the household's own session or a proxy with its
consent; the text message goes to a member's phone from the ledger, never a typed number."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from shouwang.core import crypto
from shouwang.queues import services
from shouwang.queues.models import Channel, Notify, Registration, SaleDay, Ticket
from shouwang.queues.tests.conftest import FormClient, QuickClient, english
from shouwang.queues.tests.test_public_views import make_day
from shouwang.residents import services as resident_services
from shouwang.residents.models import BehalfAction


@pytest.fixture(params=["django", "quick"])
def client(request):
    """Every press here is made twice over: through Django's full stack, and through the quick
    path config/wsgi.py puts in front of it (queues/quick.py), which must answer alike."""
    return english(FormClient() if request.param == "django" else QuickClient())


@pytest.fixture
def day(staff, point):
    return make_day(staff, point)


def sign_in(client, staff, household) -> None:
    """A resident opens the household link from their card or SMS."""
    _link, token = resident_services.link_issue(actor=staff, household=household)
    assert client.get(f"/h/{token}/").status_code == 302


def take_url(household, day) -> str:
    return f"/my/households/{household.pk}/queue/{day.pk}/take/"


def cancel_url(household, ticket) -> str:
    return f"/my/households/{household.pk}/queue/tickets/{ticket.pk}/cancel/"


def page(household) -> str:
    return f"/my/households/{household.pk}/"


def messages_of(resp) -> list[str]:
    return [str(m) for m in resp.context["messages"]] if resp.context else []


# --- the household page ---------------------------------------------------------------------


def test_household_page_offers_the_day_with_masked_member_phones(client, staff, ledger, day):
    sign_in(client, staff, ledger["h1"])
    resp = client.get(page(ledger["h1"]))
    html = resp.content.decode()
    assert resp.status_code == 200
    assert 'id="queue"' in html
    assert "松林超市摊位" in html and "50</b> of 50 tickets left" in html
    assert f'action="{take_url(ledger["h1"], day)}"' in html
    # r1 has a phone: offered masked; r1b has none: not offered; the full number never shown.
    assert f'value="sms:{ledger["r1"].pk}"' in html
    assert "139****5678" in html and "13912345678" not in html
    assert f'value="sms:{ledger["r1b"].pk}"' not in html
    assert 'value="knock"' in html and 'value="page"' in html


def test_household_page_leaves_out_points_that_do_not_serve_it(client, staff, ledger, point):
    other = services.point_save(
        actor=staff, name="新虹公寓便民点", buildings=[ledger["h3"].building_id]
    )
    make_day(staff, other)
    sign_in(client, staff, ledger["h1"])
    html = client.get(page(ledger["h1"])).content.decode()
    assert "新虹公寓便民点" not in html


def test_household_page_shows_no_section_without_a_day(client, staff, ledger, point):
    sign_in(client, staff, ledger["h1"])
    html = client.get(page(ledger["h1"])).content.decode()
    assert 'id="queue"' not in html


# --- taking a number ------------------------------------------------------------------------


def test_take_with_a_text_to_a_member_phone_and_twice_is_the_same_ticket(
    client, staff, ledger, day
):
    h1, r1 = ledger["h1"], ledger["r1"]
    sign_in(client, staff, h1)
    resp = client.post(take_url(h1, day), {"notify": f"sms:{r1.pk}"})
    t = Ticket.objects.get(day=day, household=h1)
    assert resp.status_code == 302 and resp["Location"] == f"/q/t/{t.follow_key}/"
    assert t.number == 1 and t.channel == Channel.HOUSEHOLD and t.consent is None
    assert t.notify == Notify.SMS and t.sms_phone_masked == "139****5678"
    assert crypto.decrypt(t.sms_phone_enc) == "+8613912345678"

    again = client.post(take_url(h1, day), {"notify": f"sms:{r1.pk}"}, follow=True)
    assert Ticket.objects.filter(day=day, household=h1).count() == 1
    assert again.redirect_chain[-1][0] == f"/q/t/{t.follow_key}/"
    assert "You already have number 1." in messages_of(again)
    day.refresh_from_db()
    assert day.issued == 1


def test_take_the_old_form_fields_notify_sms_and_resident(client, staff, ledger, day):
    sign_in(client, staff, ledger["h1"])
    client.post(take_url(ledger["h1"], day), {"notify": "sms", "resident": ledger["r1"].pk})
    t = Ticket.objects.get(day=day, household=ledger["h1"])
    assert t.notify == Notify.SMS and t.sms_phone_masked == "139****5678"


@pytest.mark.parametrize("notify", [Notify.KNOCK, Notify.PAGE])
def test_take_without_a_phone(client, staff, ledger, day, notify):
    sign_in(client, staff, ledger["h1"])
    resp = client.post(take_url(ledger["h1"], day), {"notify": notify}, follow=True)
    t = Ticket.objects.get(day=day, household=ledger["h1"])
    assert t.notify == notify and t.sms_phone_enc == "" and t.sms_phone_masked == ""
    assert "Your number is 1." in " ".join(messages_of(resp))


def test_another_households_session_gets_404(client, staff, ledger, day):
    sign_in(client, staff, ledger["h2"])
    assert client.post(take_url(ledger["h1"], day), {"notify": "page"}).status_code == 404
    assert not Ticket.objects.exists()
    theirs = services.ticket_take(day=day, household=ledger["h1"]).ticket
    assert client.post(cancel_url(ledger["h1"], theirs)).status_code == 404
    # Their own household's address with someone else's ticket: 404 as well.
    assert client.post(cancel_url(ledger["h2"], theirs)).status_code == 404
    theirs.refresh_from_db()
    assert theirs.status == Ticket.Status.WAITING


def test_no_session_gets_404(client, ledger, day):
    assert client.post(take_url(ledger["h1"], day), {"notify": "page"}).status_code == 404


def test_a_day_of_another_community_is_404(client, staff, ledger, personas, other_community):
    outsider = personas["outsider"]
    p = services.point_save(actor=outsider, name="别处")
    d = make_day(outsider, p)
    sign_in(client, staff, ledger["h1"])
    assert client.post(take_url(ledger["h1"], d), {"notify": "page"}).status_code == 404


@pytest.mark.parametrize("who", ["r2", "ro", "r1b", None])
def test_a_phone_that_is_not_a_members_mobile_is_refused(client, staff, ledger, day, who):
    """Another household's member, another community's, a member without a phone, or a
    made-up id: the form cannot send a text to an arbitrary number."""
    sign_in(client, staff, ledger["h1"])
    rid = ledger[who].pk if who else 999999
    resp = client.post(take_url(ledger["h1"], day), {"notify": f"sms:{rid}"}, follow=True)
    assert resp.redirect_chain[-1][0] == page(ledger["h1"]) + "#queue"
    assert "Choose a member of this household with a mobile phone" in " ".join(messages_of(resp))
    assert not Ticket.objects.exists()


def test_a_typed_phone_number_is_ignored(client, staff, ledger, day):
    sign_in(client, staff, ledger["h1"])
    client.post(
        take_url(ledger["h1"], day),
        {"notify": f"sms:{ledger['r1'].pk}", "sms_phone": "+8613000000000"},
    )
    t = Ticket.objects.get(day=day)
    assert crypto.decrypt(t.sms_phone_enc) == "+8613912345678"


def test_a_proxy_with_consent_takes_for_the_household(client, staff, ledger, day, personas):
    volunteer = personas["volunteer"]
    consent = resident_services.consent_grant(
        actor=staff,
        household=ledger["h1"],
        relation="building_volunteer",
        granted_on=timezone.localdate(),
        proxy_user=volunteer,
    )
    client.force_login(volunteer)
    html = client.get(page(ledger["h1"])).content.decode()
    assert f'action="{take_url(ledger["h1"], day)}"' in html
    resp = client.post(take_url(ledger["h1"], day), {"notify": "knock"})
    t = Ticket.objects.get(day=day, household=ledger["h1"])
    assert resp.status_code == 302 and resp["Location"] == f"/q/t/{t.follow_key}/"
    assert t.channel == Channel.PROXY and t.consent == consent and t.taken_by == volunteer
    action = BehalfAction.objects.get(household=ledger["h1"], action="queue.ticket")
    assert action.consent == consent and action.target_id == str(t.pk)
    # Not for a household that gave no consent.
    assert client.post(take_url(ledger["h2"], day), {"notify": "knock"}).status_code == 404


def test_a_proxy_for_one_member_may_text_only_that_member(client, staff, ledger, day, personas):
    volunteer = personas["volunteer"]
    resident_services.consent_grant(
        actor=staff,
        household=ledger["h1"],
        relation="family",
        granted_on=timezone.localdate(),
        proxy_user=volunteer,
        resident=ledger["r1b"],
    )
    client.force_login(volunteer)
    # r1's phone is not the consenting member's: refused by behalf_authorize.
    resp = client.post(take_url(ledger["h1"], day), {"notify": f"sms:{ledger['r1'].pk}"})
    assert resp.status_code == 302 and not Ticket.objects.exists()
    # For the member who consented, without a text: allowed.
    client.post(take_url(ledger["h1"], day), {"notify": "knock"})
    assert Ticket.objects.get(day=day).channel == Channel.PROXY


def test_sold_out_is_a_message_on_the_household_page(client, staff, ledger, point):
    d = make_day(staff, point, tickets_total=1)
    services.ticket_take(day=d, household=ledger["h2"])
    sign_in(client, staff, ledger["h1"])
    resp = client.post(take_url(ledger["h1"], d), {"notify": "page"}, follow=True)
    assert resp.redirect_chain[-1][0] == page(ledger["h1"]) + "#queue"
    assert "All 1 tickets for this day have been taken" in " ".join(messages_of(resp))
    assert "All tickets have been taken" in resp.content.decode()
    assert not Ticket.objects.filter(household=ledger["h1"]).exists()


def test_not_open_yet_is_a_message(client, staff, ledger, point):
    now = timezone.now()
    d = make_day(staff, point, take_opens_at=now + dt.timedelta(hours=1))
    sign_in(client, staff, ledger["h1"])
    html = client.get(page(ledger["h1"])).content.decode()
    assert "Tickets from" in html and f'action="{take_url(ledger["h1"], d)}"' not in html
    resp = client.post(take_url(ledger["h1"], d), {"notify": "page"}, follow=True)
    assert "Tickets are handed out from" in " ".join(messages_of(resp))
    assert not Ticket.objects.exists()


def test_a_point_that_does_not_serve_the_building_refuses(client, staff, ledger):
    p = services.point_save(actor=staff, name="新虹便民点", buildings=[ledger["h3"].building_id])
    d = make_day(staff, p)
    sign_in(client, staff, ledger["h1"])
    resp = client.post(take_url(ledger["h1"], d), {"notify": "page"}, follow=True)
    assert "does not serve this building" in " ".join(messages_of(resp))


def test_draw_mode_before_the_draw_registers(client, staff, ledger, point):
    now = timezone.now()
    d = make_day(staff, point, mode=SaleDay.Mode.DRAW, draw_at=now + dt.timedelta(hours=1))
    sign_in(client, staff, ledger["h1"])
    html = client.get(page(ledger["h1"])).content.decode()
    assert "Register for the draw" in html
    resp = client.post(take_url(ledger["h1"], d), {"notify": "page"}, follow=True)
    r = Registration.objects.get(day=d, household=ledger["h1"])
    assert not Ticket.objects.exists()
    assert resp.redirect_chain[-1][0] == f"/q/t/{r.follow_key}/"
    assert f"registered for the draw with code R{r.code}" in " ".join(messages_of(resp))
    body = resp.content.decode()
    assert f"R{r.code}" in body and "Registered. The draw is at" in body
    # Asking again: the same registration.
    again = client.post(take_url(ledger["h1"], d), {"notify": "page"}, follow=True)
    assert Registration.objects.filter(day=d).count() == 1
    assert "already registered for the draw" in " ".join(messages_of(again))
    # The household page now shows the code and no form.
    html = client.get(page(ledger["h1"])).content.decode()
    assert f"R{r.code}" in html and "Register for the draw" not in html


def test_cancel_gives_the_number_back(client, staff, ledger, day):
    sign_in(client, staff, ledger["h1"])
    client.post(take_url(ledger["h1"], day), {"notify": "page"})
    t = Ticket.objects.get(day=day)
    html = client.get(page(ledger["h1"])).content.decode()
    assert f'action="{cancel_url(ledger["h1"], t)}"' in html
    resp = client.post(cancel_url(ledger["h1"], t), follow=True)
    t.refresh_from_db()
    assert t.status == Ticket.Status.CANCELLED
    assert "Number 1 was given back." in messages_of(resp)
    assert resp.redirect_chain[-1][0] == page(ledger["h1"]) + "#queue"


def test_cancel_a_called_number_is_refused_with_a_message(client, staff, ledger, day):
    sign_in(client, staff, ledger["h1"])
    t = services.ticket_take(day=day, household=ledger["h1"]).ticket
    services.call_next(day=day, actor=staff)
    resp = client.post(cancel_url(ledger["h1"], t), follow=True)
    t.refresh_from_db()
    assert t.status == Ticket.Status.CALLED
    assert "Only a number that has not been called can be given back." in messages_of(resp)


def test_a_proxy_cancel_is_recorded_for_the_household(client, staff, ledger, day, personas):
    volunteer = personas["volunteer"]
    consent = resident_services.consent_grant(
        actor=staff,
        household=ledger["h1"],
        relation="building_volunteer",
        granted_on=timezone.localdate(),
        proxy_user=volunteer,
    )
    t = services.ticket_take(day=day, household=ledger["h1"]).ticket
    client.force_login(volunteer)
    client.post(cancel_url(ledger["h1"], t))
    t.refresh_from_db()
    assert t.status == Ticket.Status.CANCELLED
    client.post(cancel_url(ledger["h1"], t))  # pressed twice: recorded once
    assert BehalfAction.objects.filter(consent=consent, action="queue.cancel").count() == 1


def test_get_is_not_allowed(client, staff, ledger, day):
    sign_in(client, staff, ledger["h1"])
    assert client.get(take_url(ledger["h1"], day)).status_code == 405


# --- the staff household page ---------------------------------------------------------------


def test_staff_household_page_lists_the_households_numbers(client, staff, ledger, day):
    t = services.ticket_take(day=day, household=ledger["h1"], notify="knock").ticket
    client.force_login(staff)
    html = client.get(f"/households/{ledger['h1'].pk}/").content.decode()
    assert 'id="queue"' in html and "Queue numbers" in html
    assert f'q-num-cell">{t.number}</td>' in html
    assert f"/queue/tickets/{t.pk}/print/" in html
    # A household without numbers but with a day open: the link to give one.
    html = client.get(f"/households/{ledger['h2'].pk}/").content.decode()
    assert f"/queue/days/{day.pk}/issue/?household={ledger['h2'].pk}" in html
