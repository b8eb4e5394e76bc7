"""Staff pages of the residents' side: the access section of the household page, passes, the
household link (issue, withdraw, send by SMS) and consents."""

from __future__ import annotations

import pytest
from django.test import Client
from django.utils import timezone

from shouwang.core import crypto
from shouwang.core.models import AuditEvent
from shouwang.registry.models import CareTag
from shouwang.registry.services import households_refresh
from shouwang.residents import services, tokens
from shouwang.residents.models import Consent, HouseholdLink, Pass, SmsMessage
from shouwang.residents.sms import MemoryGateway, SmsError, SmsGateway

MANAGERS = ["admin", "staff", "grid_leader"]


class FailingGateway(SmsGateway):
    name = "failing"

    def send(self, phone_e164, text, *, kind):
        raise SmsError("the provider is down")


@pytest.fixture
def en():
    c = Client()
    c.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return c


@pytest.fixture
def as_staff(en, personas):
    en.force_login(personas["staff"])
    return en


@pytest.fixture
def memory_sms(settings):
    settings.SMS_GATEWAY = "shouwang.residents.sms.MemoryGateway"
    settings.PUBLIC_URL = "https://sw.example"
    MemoryGateway.outbox.clear()
    yield MemoryGateway.outbox
    MemoryGateway.outbox.clear()


def hh(h) -> str:
    return f"/households/{h.pk}/"


def access_section(resp):
    found = [s for s in resp.context["sections"] if s["key"] == "access"]
    return found[0] if found else None


def messages_of(resp) -> list[str]:
    return [str(m) for m in resp.context["messages"]]


def with_contact_phone(h):
    households_refresh(household_ids=[h.pk])
    h.refresh_from_db()
    return h


# --- the household page ---------------------------------------------------------------------


@pytest.mark.parametrize("persona", MANAGERS)
def test_household_page_has_the_access_section(en, personas, ledger, persona):
    en.force_login(personas[persona])
    h1 = ledger["h1"]
    resp = en.get(hh(h1))
    assert resp.status_code == 200
    s = access_section(resp)
    assert s is not None and s["can_passes"] and s["can_access"]
    assert [m.pk for m, _p in s["rows"]] == [ledger["r1"].pk, ledger["r1b"].pk]
    html = resp.content.decode()
    assert 'id="access"' in html
    for r in (ledger["r1"], ledger["r1b"]):
        assert f'action="/residents/{r.pk}/pass/"' in html
    assert f'action="/households/{h1.pk}/link/"' in html
    assert f'href="/households/{h1.pk}/consents/new/"' in html
    assert "/revoke/" not in html.split('id="access"', 1)[1].split("</section>", 1)[0]


def test_household_page_shows_revoke_buttons_for_passes(as_staff, personas, ledger):
    p = services.pass_issue(actor=personas["staff"], resident=ledger["r1"])
    services.link_issue(actor=personas["staff"], household=ledger["h1"])
    c = services.consent_grant(
        actor=personas["staff"],
        household=ledger["h1"],
        relation="family",
        granted_on=timezone.localdate(),
        proxy_name="王女儿",
        proxy_phone="+8613600009999",
    )
    resp = as_staff.get(hh(ledger["h1"]))
    s = access_section(resp)
    assert dict((m.pk, pp) for m, pp in s["rows"])[ledger["r1"].pk] == p
    html = resp.content.decode()
    assert f'action="/passes/{p.pk}/revoke/"' in html
    assert f'action="/households/{ledger["h1"].pk}/link/revoke/"' in html
    assert f'action="/consents/{c.pk}/revoke/"' in html
    assert "136****9999" in html
    assert "+8613600009999" not in html and "13600009999" not in html


def test_access_section_lists_no_other_household(as_staff, personas, ledger):
    services.pass_issue(actor=personas["staff"], resident=ledger["r2"])
    resp = as_staff.get(hh(ledger["h1"]))
    body = resp.content.decode().split('id="access"', 1)[1]
    assert "李四" not in body and f"/residents/{ledger['r2'].pk}/pass/" not in body


@pytest.mark.parametrize("persona", ["guard", "volunteer", "sampler", "resident"])
def test_household_page_refused_to_other_roles(en, personas, ledger, persona):
    en.force_login(personas[persona])
    assert en.get(hh(ledger["h1"])).status_code == 403


# --- passes ---------------------------------------------------------------------------------


def test_issue_then_reissue(as_staff, personas, ledger):
    r1 = ledger["r1"]
    resp = as_staff.post(f"/residents/{r1.pk}/pass/")
    assert resp.status_code == 302
    assert resp["Location"] == f"/households/{ledger['h1'].pk}/#access"
    first = Pass.objects.get(resident=r1, status="active")
    assert first.issued_by == personas["staff"]
    assert AuditEvent.objects.filter(action="pass.issue", target_id=str(r1.pk)).count() == 1

    resp = as_staff.post(f"/residents/{r1.pk}/pass/", {"reason": "reissued"}, follow=True)
    assert resp.status_code == 200
    second = Pass.objects.get(resident=r1, status="active")
    assert second.pk != first.pk
    first.refresh_from_db()
    assert first.status == "revoked" and first.revoke_reason == "reissued"
    with pytest.raises(services.PassRefused) as info:
        services.pass_resolve(tokens.token_for(first.code), community_id=r1.community_id)
    assert info.value.code == "pass_revoked"
    assert any("new pass" in m for m in messages_of(resp))
    assert AuditEvent.objects.filter(action="pass.reissue").count() == 1


def test_issue_message(as_staff, ledger):
    resp = as_staff.post(f"/residents/{ledger['r1'].pk}/pass/", follow=True)
    assert messages_of(resp) == ["王小明 has a pass."]


def test_revoke_with_a_reason(as_staff, personas, ledger):
    p = services.pass_issue(actor=personas["staff"], resident=ledger["r1"])
    resp = as_staff.post(f"/passes/{p.pk}/revoke/", {"reason": "card lost"}, follow=True)
    assert resp.redirect_chain[0] == (f"/households/{ledger['h1'].pk}/#access", 302)
    p.refresh_from_db()
    assert p.status == "revoked" and p.revoke_reason == "card lost"
    assert p.revoked_by == personas["staff"]
    assert any("revoked" in m for m in messages_of(resp))
    ev = AuditEvent.objects.get(action="pass.revoke")
    assert ev.reason == "card lost"


@pytest.mark.parametrize("data", [{}, {"reason": ""}, {"reason": "   "}])
def test_revoke_without_a_reason_changes_nothing(as_staff, personas, ledger, data):
    p = services.pass_issue(actor=personas["staff"], resident=ledger["r1"])
    resp = as_staff.post(f"/passes/{p.pk}/revoke/", data, follow=True)
    assert resp.status_code == 200
    p.refresh_from_db()
    assert p.status == "active"
    msgs = [m for m in resp.context["messages"]]
    assert len(msgs) == 1 and msgs[0].level_tag == "error"
    assert "why" in str(msgs[0]).lower()
    assert not AuditEvent.objects.filter(action="pass.revoke").exists()


def test_pass_endpoints_are_post_only(as_staff, personas, ledger):
    p = services.pass_issue(actor=personas["staff"], resident=ledger["r1"])
    assert as_staff.get(f"/residents/{ledger['r1'].pk}/pass/").status_code == 405
    assert as_staff.get(f"/passes/{p.pk}/revoke/").status_code == 405


def test_grid_leader_acts_in_own_grid_only(en, personas, ledger):
    leader = personas["grid_leader"]
    en.force_login(leader)
    p3 = services.pass_issue(actor=personas["staff"], resident=ledger["r3"])
    c3 = services.consent_grant(
        actor=personas["staff"],
        household=ledger["h3"],
        relation="neighbour",
        granted_on=timezone.localdate(),
        proxy_name="邻居",
        proxy_phone="+8613600009999",
    )
    h3 = ledger["h3"]
    assert en.get(hh(h3)).status_code == 404
    assert en.post(f"/residents/{ledger['r3'].pk}/pass/").status_code == 404
    assert en.post(f"/passes/{p3.pk}/revoke/", {"reason": "x"}).status_code == 404
    assert en.post(f"/households/{h3.pk}/link/").status_code == 404
    assert en.post(f"/households/{h3.pk}/link/revoke/").status_code == 404
    assert en.post(f"/households/{h3.pk}/link/send/").status_code == 404
    assert en.get(f"/households/{h3.pk}/consents/new/").status_code == 404
    assert en.post(f"/consents/{c3.pk}/revoke/").status_code == 404
    # Nothing changed in grid B.
    p3.refresh_from_db()
    c3.refresh_from_db()
    assert p3.status == "active" and c3.revoked_at is None
    assert Pass.objects.filter(resident=ledger["r3"]).count() == 1
    assert not HouseholdLink.objects.filter(household=h3).exists()
    # Grid A is the leader's.
    assert en.post(f"/residents/{ledger['r1'].pk}/pass/").status_code == 302
    assert Pass.objects.filter(resident=ledger["r1"], issued_by=leader).exists()


def test_outsider_cannot_reach_this_community(en, personas, ledger):
    en.force_login(personas["outsider"])
    p = services.pass_issue(actor=personas["staff"], resident=ledger["r1"])
    assert en.post(f"/residents/{ledger['r1'].pk}/pass/").status_code == 404
    assert en.post(f"/passes/{p.pk}/revoke/", {"reason": "x"}).status_code == 404
    assert en.post(f"/households/{ledger['h1'].pk}/link/").status_code == 404
    p.refresh_from_db()
    assert p.status == "active"


@pytest.mark.parametrize("persona", ["volunteer", "guard", "sampler", "merchant", "resident"])
def test_other_roles_get_403(en, personas, ledger, persona):
    en.force_login(personas[persona])
    p = services.pass_issue(actor=personas["staff"], resident=ledger["r1"])
    h1 = ledger["h1"]
    assert en.post(f"/residents/{ledger['r1'].pk}/pass/").status_code == 403
    assert en.post(f"/passes/{p.pk}/revoke/", {"reason": "x"}).status_code == 403
    assert en.post(f"/households/{h1.pk}/link/").status_code == 403
    assert en.post(f"/households/{h1.pk}/link/revoke/").status_code == 403
    assert en.post(f"/households/{h1.pk}/link/send/").status_code == 403
    assert en.get(f"/households/{h1.pk}/consents/new/").status_code == 403
    assert en.get("/passes/").status_code == 403
    p.refresh_from_db()
    assert p.status == "active"
    assert Pass.objects.filter(resident=ledger["r1"]).count() == 1
    assert not HouseholdLink.objects.exists()


def test_anonymous_is_sent_to_sign_in(en, ledger):
    resp = en.post(f"/residents/{ledger['r1'].pk}/pass/")
    assert resp.status_code == 302 and "/accounts/login/" in resp["Location"]
    assert not Pass.objects.exists()


# --- the list of passes and cards -------------------------------------------------------------


def _rows(client, **params):
    resp = client.get("/passes/", params)
    assert resp.status_code == 200
    return [r.pk for r in resp.context["rows"]]


def test_passes_page_without_a_choice_lists_nobody(as_staff, ledger):
    resp = as_staff.get("/passes/")
    assert resp.status_code == 200
    assert resp.context["rows"] == [] and not resp.context["searched"]


def test_nocard_lists_who_has_no_phone_and_no_card(as_staff, personas, ledger):
    building = ledger["h1"].building_id
    assert _rows(as_staff, building=building, only="nocard") == [ledger["r1b"].pk]
    assert _rows(as_staff, building=building) == [ledger["r1b"].pk]  # the default
    # A pass alone is not a card.
    services.pass_ensure(actor=personas["staff"], residents=[ledger["r1b"]])
    assert _rows(as_staff, building=building, only="nocard") == [ledger["r1b"].pk]
    # Printed: no longer listed.
    Pass.objects.filter(resident=ledger["r1b"]).update(printed_at=timezone.now())
    assert _rows(as_staff, building=building, only="nocard") == []
    # A revoked printed card does not count as a card.
    p = Pass.objects.get(resident=ledger["r1b"])
    services.pass_revoke(actor=personas["staff"], pass_=p, reason="lost")
    assert _rows(as_staff, building=building, only="nocard") == [ledger["r1b"].pk]


def test_all_and_nophone(as_staff, ledger):
    building = ledger["h1"].building_id
    everyone = {ledger["r1"].pk, ledger["r1b"].pk, ledger["r2"].pk}
    assert set(_rows(as_staff, building=building, only="all")) == everyone
    assert _rows(as_staff, building=building, only="nophone") == [ledger["r1b"].pk]


def test_no_smartphone_tag_counts_as_no_phone(as_staff, ledger):
    r2 = ledger["r2"]
    r2.tags = int(CareTag.NO_SMARTPHONE) | int(CareTag.AGE_80)
    r2.save(update_fields=["tags"])
    building = ledger["h1"].building_id
    assert set(_rows(as_staff, building=building, only="nocard")) == {
        ledger["r1b"].pk,
        r2.pk,
    }


def test_moved_out_people_are_not_listed(as_staff, ledger):
    r1b = ledger["r1b"]
    r1b.presence = "moved_out"
    r1b.save(update_fields=["presence"])
    building = ledger["h1"].building_id
    assert _rows(as_staff, building=building, only="nocard") == []
    assert r1b.pk not in _rows(as_staff, building=building, only="all")


def test_by_grid(as_staff, ledger, grid_a, grid_b):
    assert set(_rows(as_staff, grid=grid_a.pk, only="all")) == {
        ledger["r1"].pk,
        ledger["r1b"].pk,
        ledger["r2"].pk,
    }
    assert _rows(as_staff, grid=grid_b.pk, only="all") == [ledger["r3"].pk]


def test_passes_list_scope(en, personas, ledger, grid_b):
    en.force_login(personas["grid_leader"])
    assert en.get("/passes/", {"building": ledger["h3"].building_id}).status_code == 404
    assert en.get("/passes/", {"grid": grid_b.pk}).status_code == 404
    assert set(_rows(en, building=ledger["h1"].building_id, only="all")) == {
        ledger["r1"].pk,
        ledger["r1b"].pk,
        ledger["r2"].pk,
    }
    en.force_login(personas["staff"])
    assert en.get("/passes/", {"building": ledger["ho"].building_id}).status_code == 404


def test_passes_list_shows_names_and_masked_phones(as_staff, ledger):
    resp = as_staff.get("/passes/", {"building": ledger["h1"].building_id, "only": "all"})
    html = resp.content.decode()
    assert "王小明" in html and "139****5678" in html
    assert "13912345678" not in html


# --- household link -------------------------------------------------------------------------


def test_link_issue_sets_a_link_and_shows_it_once(as_staff, personas, ledger, settings):
    settings.PUBLIC_URL = "https://sw.example"
    h1 = ledger["h1"]
    resp = as_staff.post(f"/households/{h1.pk}/link/")
    assert resp.status_code == 302 and resp["Location"] == f"/households/{h1.pk}/#access"
    link = HouseholdLink.objects.get(household=h1, revoked_at=None)
    assert link.created_by == personas["staff"]

    first = as_staff.get(hh(h1))
    assert access_section(first)["new_link"]
    assert access_section(first)["link"] == link
    second = as_staff.get(hh(h1))
    assert access_section(second)["new_link"] is None
    token = services.link_token(link)
    assert token not in second.content.decode()


def test_link_issue_page_shows_the_usable_url(as_staff, ledger, settings):
    settings.PUBLIC_URL = "https://sw.example"
    h1 = ledger["h1"]
    as_staff.post(f"/households/{h1.pk}/link/")
    token = services.link_token(HouseholdLink.objects.get(household=h1, revoked_at=None))
    url = f"https://sw.example/h/{token}/"
    resp = as_staff.get(hh(h1))
    assert access_section(resp)["new_link"] == url
    assert url in resp.content.decode()


def test_the_issued_link_opens_the_household(as_staff, ledger):
    h1 = ledger["h1"]
    as_staff.post(f"/households/{h1.pk}/link/")
    token = services.link_token(HouseholdLink.objects.get(household=h1, revoked_at=None))
    resident = Client()
    assert resident.get(f"/h/{token}/")["Location"] == f"/my/households/{h1.pk}/"
    assert resident.get(f"/my/households/{h1.pk}/").status_code == 200


def test_link_replace_signs_out_the_old_sessions(as_staff, personas, ledger):
    h1 = ledger["h1"]
    _link, token = services.link_issue(actor=personas["staff"], household=h1)
    resident = Client()
    resident.get(f"/h/{token}/")
    assert resident.get(f"/my/households/{h1.pk}/").status_code == 200
    as_staff.post(f"/households/{h1.pk}/link/")
    assert HouseholdLink.objects.filter(household=h1, revoked_at=None).count() == 1
    assert HouseholdLink.objects.filter(household=h1).count() == 2
    assert resident.get(f"/my/households/{h1.pk}/").status_code == 404


def test_link_revoke(as_staff, personas, ledger):
    h1 = ledger["h1"]
    _link, token = services.link_issue(actor=personas["staff"], household=h1)
    resident = Client()
    resident.get(f"/h/{token}/")
    resp = as_staff.post(f"/households/{h1.pk}/link/revoke/", follow=True)
    assert resp.redirect_chain[0] == (f"/households/{h1.pk}/#access", 302)
    assert any("withdrawn" in m for m in messages_of(resp))
    assert not HouseholdLink.objects.filter(household=h1, revoked_at=None).exists()
    assert access_section(resp)["link"] is None
    assert resident.get(f"/my/households/{h1.pk}/").status_code == 404
    assert resident.get(f"/h/{token}/").status_code == 404
    # Nothing left to withdraw.
    resp = as_staff.post(f"/households/{h1.pk}/link/revoke/", follow=True)
    msgs = list(resp.context["messages"])
    assert len(msgs) == 1 and msgs[0].level_tag == "info"
    assert AuditEvent.objects.filter(action="link.revoke").count() == 1


def test_link_send_to_the_contact_phone(as_staff, personas, ledger, memory_sms):
    h1 = with_contact_phone(ledger["h1"])
    assert h1.contact_phone == "+8613912345678"
    resp = as_staff.get(hh(h1))
    assert f'action="/households/{h1.pk}/link/send/"' in resp.content.decode()

    resp = as_staff.post(f"/households/{h1.pk}/link/send/", follow=True)
    assert resp.redirect_chain[0] == (f"/households/{h1.pk}/#access", 302)
    link = HouseholdLink.objects.get(household=h1, revoked_at=None)
    token = services.link_token(link)
    assert len(memory_sms) == 1
    phone, text, kind = memory_sms[0]
    assert phone == "+8613912345678" and kind == "link"
    assert f"https://sw.example/h/{token}/" in text
    assert link.sent_to_masked == "139****5678"
    msg = SmsMessage.objects.get()
    assert msg.kind == "link" and msg.ok and msg.to_masked == "139****5678"
    assert msg.community_id == h1.community_id
    assert messages_of(resp) == ["The link was sent to 139****5678."]
    ev = AuditEvent.objects.get(action="link.send")
    assert "13912345678" not in ev.summary and "139****5678" in ev.summary
    # The page now says where it was sent.
    assert "Sent to 139****5678." in resp.content.decode()


def test_link_send_keeps_an_existing_link(as_staff, personas, ledger, memory_sms):
    h1 = with_contact_phone(ledger["h1"])
    link, token = services.link_issue(actor=personas["staff"], household=h1)
    resident = Client()
    resident.get(f"/h/{token}/")
    as_staff.post(f"/households/{h1.pk}/link/send/")
    assert HouseholdLink.objects.get(household=h1, revoked_at=None).pk == link.pk
    assert f"/h/{token}/" in memory_sms[0][1]
    assert resident.get(f"/my/households/{h1.pk}/").status_code == 200


def test_link_send_without_a_contact_phone(as_staff, ledger, memory_sms):
    h1 = ledger["h1"]
    assert h1.contact_phone_enc == ""
    resp = as_staff.get(hh(h1))
    assert f"/households/{h1.pk}/link/send/" not in resp.content.decode()
    resp = as_staff.post(f"/households/{h1.pk}/link/send/", follow=True)
    assert resp.status_code == 200
    msgs = list(resp.context["messages"])
    assert len(msgs) == 1 and msgs[0].level_tag == "error"
    assert "no mobile phone" in str(msgs[0])
    assert memory_sms == []
    assert not SmsMessage.objects.exists()
    assert not HouseholdLink.objects.filter(household=h1).exists()
    assert not AuditEvent.objects.filter(action="link.send").exists()


def test_link_send_with_contact_phone_set_directly(as_staff, ledger, memory_sms):
    h2 = ledger["h2"]
    h2.contact_phone_enc = crypto.encrypt("+8618600001111")
    h2.contact_phone_masked = "186****1111"
    h2.save(update_fields=["contact_phone_enc", "contact_phone_masked"])
    as_staff.post(f"/households/{h2.pk}/link/send/")
    assert [m[0] for m in memory_sms] == ["+8618600001111"]


def test_link_send_when_the_gateway_fails(as_staff, ledger, settings):
    settings.SMS_GATEWAY = "shouwang.residents.tests.test_staff_pages.FailingGateway"
    h1 = with_contact_phone(ledger["h1"])
    resp = as_staff.post(f"/households/{h1.pk}/link/send/", follow=True)
    assert resp.status_code == 200
    msgs = list(resp.context["messages"])
    assert len(msgs) == 1 and msgs[0].level_tag == "error"
    msg = SmsMessage.objects.get()
    assert not msg.ok and msg.kind == "link"
    assert not AuditEvent.objects.filter(action="link.send").exists()
    link = HouseholdLink.objects.get(household=h1)
    assert link.sent_to_masked == ""


# --- consents -------------------------------------------------------------------------------


def _consent_post(**over):
    data = {
        "who": "phone",
        "proxy_name": "王女儿",
        "proxy_phone": "13600009999",
        "proxy_user": "",
        "relation": "family",
        "resident": "",
        "granted_on": timezone.localdate().isoformat(),
        "note": "called on the phone",
    }
    data.update(over)
    return data


def test_consent_form_renders(as_staff, ledger):
    resp = as_staff.get(f"/households/{ledger['h1'].pk}/consents/new/")
    assert resp.status_code == 200
    form = resp.context["form"]
    assert set(form.fields["resident"].queryset) == {ledger["r1"], ledger["r1b"]}
    assert all(
        u.community_id == ledger["h1"].community_id for u in form.fields["proxy_user"].queryset
    )


def test_consent_add_phone(as_staff, personas, ledger):
    h1 = ledger["h1"]
    resp = as_staff.post(f"/households/{h1.pk}/consents/new/", _consent_post(), follow=True)
    assert resp.redirect_chain[0] == (f"/households/{h1.pk}/#access", 302)
    c = Consent.objects.get()
    assert c.household == h1 and c.proxy_user is None
    assert c.proxy_name == "王女儿" and c.proxy_phone_masked == "136****9999"
    assert crypto.decrypt(c.proxy_phone_enc) == "+8613600009999"
    assert c.note == "called on the phone"
    assert c.recorded_by == personas["staff"]
    assert messages_of(resp) == ["The consent is recorded."]
    assert c in access_section(resp)["consents"]


def test_consent_add_user_for_one_member(as_staff, personas, ledger):
    h1 = ledger["h1"]
    vol = personas["volunteer"]
    resp = as_staff.post(
        f"/households/{h1.pk}/consents/new/",
        _consent_post(
            who="user",
            proxy_user=str(vol.pk),
            proxy_name="ignored",
            proxy_phone="",
            relation="building_volunteer",
            resident=str(ledger["r1b"].pk),
        ),
    )
    assert resp.status_code == 302
    c = Consent.objects.get()
    assert c.proxy_user == vol and c.proxy_name == "volunteer"
    assert c.proxy_phone_index == "" and c.resident == ledger["r1b"]


@pytest.mark.parametrize(
    "over, key",
    [
        ({"proxy_phone": "12345"}, "proxy_phone"),
        ({"proxy_phone": ""}, "proxy_phone"),
        ({"proxy_name": ""}, "proxy_name"),
        ({"granted_on": "2999-01-01"}, "granted_on"),
        ({"granted_on": "not a date"}, "granted_on"),
        ({"relation": "lover"}, "relation"),
        ({"who": "user", "proxy_user": ""}, "proxy_user"),
        ({"who": "user", "proxy_user": "outsider"}, "proxy_user"),
        ({"resident": "r2"}, "resident"),
    ],
)
def test_consent_add_errors_are_shown_on_the_form(as_staff, personas, ledger, over, key):
    over = dict(over)
    if over.get("proxy_user") == "outsider":
        over["proxy_user"] = str(personas["outsider"].pk)
    if over.get("resident") == "r2":
        over["resident"] = str(ledger["r2"].pk)
    resp = as_staff.post(f"/households/{ledger['h1'].pk}/consents/new/", _consent_post(**over))
    assert resp.status_code == 200
    form = resp.context["form"]
    assert key in form.errors, form.errors
    assert "residents/consent_form.html" in [t.name for t in resp.templates]
    assert 'class="field-error"' in resp.content.decode()
    assert not Consent.objects.exists()


def test_consent_revoke(as_staff, personas, ledger):
    h1 = ledger["h1"]
    c = services.consent_grant(
        actor=personas["staff"],
        household=h1,
        relation="family",
        granted_on=timezone.localdate(),
        proxy_name="王女儿",
        proxy_phone="+8613600009999",
    )
    assert as_staff.get(f"/consents/{c.pk}/revoke/").status_code == 405
    resp = as_staff.post(f"/consents/{c.pk}/revoke/", follow=True)
    assert resp.redirect_chain[0] == (f"/households/{h1.pk}/#access", 302)
    c.refresh_from_db()
    assert c.revoked_at is not None and c.revoked_by == personas["staff"]
    assert messages_of(resp) == ["王女儿 may no longer act for this household."]
    with pytest.raises(services.Forbidden):
        services.behalf_authorize(household_id=h1.pk, phone_index=c.proxy_phone_index)


def _phone_consent(actor, household, n: int) -> Consent:
    return services.consent_grant(
        actor=actor,
        household=household,
        relation="neighbour",
        granted_on=timezone.localdate(),
        proxy_name=f"邻居{n}",
        proxy_phone=f"+861360000{n:04d}",
    )


def test_consent_list_shows_withdrawn_ones_muted(as_staff, personas, ledger):
    old = _phone_consent(personas["staff"], ledger["h1"], 1)
    services.consent_revoke(actor=personas["staff"], consent=old)
    active = _phone_consent(personas["staff"], ledger["h1"], 2)
    resp = as_staff.get(hh(ledger["h1"]))
    assert set(access_section(resp)["consents"]) == {old, active}
    html = resp.content.decode()
    assert f"/consents/{active.pk}/revoke/" in html
    assert f"/consents/{old.pk}/revoke/" not in html


def test_active_consents_are_listed_first_even_after_many_withdrawn(as_staff, personas, ledger):
    active = _phone_consent(personas["staff"], ledger["h1"], 0)
    for n in range(1, 22):
        c = _phone_consent(personas["staff"], ledger["h1"], n)
        services.consent_revoke(actor=personas["staff"], consent=c)
    resp = as_staff.get(hh(ledger["h1"]))
    consents = access_section(resp)["consents"]
    assert consents[0] == active
    assert f"/consents/{active.pk}/revoke/" in resp.content.decode()
