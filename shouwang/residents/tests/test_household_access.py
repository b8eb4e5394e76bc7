"""Residents' access without a password: household links, consents to act on a household's
behalf (proxies), and the elder mode cookie."""

from __future__ import annotations

from datetime import timedelta
from importlib import import_module

import pytest
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.test import Client, RequestFactory
from django.utils import timezone

from shouwang.core import crypto
from shouwang.core.errors import DomainError, Forbidden
from shouwang.core.models import AuditEvent
from shouwang.registry.models import Resident
from shouwang.residents import access, services, tokens
from shouwang.residents.models import BehalfAction, Consent, HouseholdLink, Pass

PROXY_PHONE = "+8613600009999"  # a daughter in another district: not in the ledger
OTHER_NAMES = ("李四", "赵五", "王外人")


# --- helpers --------------------------------------------------------------------------------


@pytest.fixture
def client():
    c = Client()
    c.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return c


@pytest.fixture
def staff(personas):
    return personas["staff"]


@pytest.fixture
def volunteer(personas):
    u = personas["volunteer"]
    u.display_name = "陈志愿"
    u.save(update_fields=["display_name"])
    return u


@pytest.fixture
def h1_link(staff, ledger):
    return services.link_issue(actor=staff, household=ledger["h1"])


def my(pk: int) -> str:
    return f"/my/households/{pk}/"


def open_link(client, token: str):
    return client.get(f"/h/{token}/")


def session_key(client) -> str | None:
    cookie = client.cookies.get(settings.SESSION_COOKIE_NAME)
    return cookie.value if cookie else None


def phone_index(e164: str) -> str:
    return Resident.phone_columns(e164)[1]


def sign_in_with_phone(client, e164: str) -> None:
    """What signin.verify does after a right SMS code: access.begin_with_phone."""
    engine = import_module(settings.SESSION_ENGINE)
    request = RequestFactory().get("/my/")
    request.session = engine.SessionStore()
    request.user = AnonymousUser()
    access.begin_with_phone(request, phone_index(e164))
    request.session.save()
    client.cookies[settings.SESSION_COOKIE_NAME] = request.session.session_key


def grant_phone(actor, household, *, resident=None, phone=PROXY_PHONE, name="王女儿"):
    return services.consent_grant(
        actor=actor,
        household=household,
        relation="family",
        granted_on=timezone.localdate(),
        proxy_name=name,
        proxy_phone=phone,
        resident=resident,
    )


def grant_user(actor, household, user, *, resident=None):
    return services.consent_grant(
        actor=actor,
        household=household,
        relation="building_volunteer",
        granted_on=timezone.localdate(),
        proxy_user=user,
        resident=resident,
    )


def section(resp, key):
    for s in resp.context["sections"]:
        if s["key"] == key:
            return s
    return None


# --- household links ------------------------------------------------------------------------


def test_link_issue_returns_a_token_kept_only_as_hash_and_ciphertext(staff, ledger, h1_link):
    link, token = h1_link
    assert isinstance(token, str) and len(token) >= 20
    link.refresh_from_db()
    assert link.active and link.household_id == ledger["h1"].pk
    assert link.community_id == ledger["h1"].community_id
    assert link.token_hash == tokens.link_hash(token)
    assert token not in link.token_enc
    assert services.link_token(link) == token
    assert services.link_current(ledger["h1"]) == link
    assert link.created_by == staff
    assert AuditEvent.objects.filter(action="link.issue", target_id=str(ledger["h1"].pk)).exists()


def test_link_issue_without_replace_keeps_the_link(staff, ledger, h1_link):
    link, token = h1_link
    again, token2 = services.link_issue(actor=staff, household=ledger["h1"], replace=False)
    assert again.pk == link.pk and token2 == token
    assert HouseholdLink.objects.filter(household=ledger["h1"]).count() == 1


def test_link_issue_with_replace_revokes_the_old_link(staff, ledger, h1_link):
    link, token = h1_link
    new, token2 = services.link_issue(actor=staff, household=ledger["h1"], replace=True)
    assert new.pk != link.pk and token2 != token
    link.refresh_from_db()
    assert not link.active and link.revoked_by == staff
    assert HouseholdLink.objects.filter(household=ledger["h1"], revoked_at=None).get() == new
    with pytest.raises(DomainError) as info:
        services.link_open(token)
    assert info.value.code == "link_invalid" and info.value.status == 404


def test_links_ensure_makes_one_per_household_and_keeps_them(staff, ledger):
    hs = [ledger["h1"], ledger["h2"]]
    first = services.links_ensure(actor=staff, households=hs)
    assert set(first) == {ledger["h1"].pk, ledger["h2"].pk}
    assert services.links_ensure(actor=staff, households=hs) == first
    assert HouseholdLink.objects.count() == 2


def test_opening_the_link_leads_to_the_household_page(client, ledger, h1_link):
    link, token = h1_link
    resp = open_link(client, token)
    assert resp.status_code == 302
    assert resp["Location"] == my(ledger["h1"].pk)
    link.refresh_from_db()
    assert link.use_count == 1 and link.last_used_at is not None


def test_household_page_shows_own_members_and_their_passes(client, staff, ledger, h1_link):
    p1 = services.pass_issue(actor=staff, resident=ledger["r1"])
    p2 = services.pass_issue(actor=staff, resident=ledger["r2"])  # the neighbours' pass
    open_link(client, h1_link[1])
    resp = client.get(my(ledger["h1"].pk))
    assert resp.status_code == 200
    html = resp.content.decode()
    assert "王小明" in html and "王大明" in html
    assert tokens.grouped(tokens.token_for(p1.code)) in html
    assert tokens.grouped(tokens.token_for(p2.code)) not in html
    assert p2.code not in html
    for name in OTHER_NAMES:
        assert name not in html
    cards = {c["member"].pk: c for c in resp.context["cards"]}
    assert set(cards) == {ledger["r1"].pk, ledger["r1b"].pk}
    assert cards[ledger["r1"].pk]["grouped"] == tokens.grouped(tokens.token_for(p1.code))
    assert resp.context["consent"] is None


def test_household_page_gives_a_pass_to_who_never_had_one(client, staff, ledger, h1_link):
    """People added since the last print get their pass on the first view, and keep it."""
    assert not Pass.objects.filter(resident=ledger["r1b"]).exists()
    open_link(client, h1_link[1])
    resp = client.get(my(ledger["h1"].pk))
    p1b = Pass.objects.get(resident=ledger["r1b"], status="active")
    cards = {c["member"].pk: c for c in resp.context["cards"]}
    assert cards[ledger["r1b"].pk]["token"] == tokens.token_for(p1b.code)
    assert tokens.grouped(tokens.token_for(p1b.code)) in resp.content.decode()
    assert "<svg" in cards[ledger["r1b"].pk]["qr"]
    client.get(my(ledger["h1"].pk))
    assert Pass.objects.filter(resident=ledger["r1b"]).count() == 1
    assert Pass.objects.filter(resident__household=ledger["h2"]).count() == 0


def test_household_page_does_not_undo_a_revocation(client, staff, ledger, h1_link):
    p1 = services.pass_issue(actor=staff, resident=ledger["r1"])
    services.pass_revoke(actor=staff, pass_=p1, reason="photo shared")
    open_link(client, h1_link[1])
    resp = client.get(my(ledger["h1"].pk))
    cards = {c["member"].pk: c for c in resp.context["cards"]}
    assert cards[ledger["r1"].pk]["token"] == ""
    html = resp.content.decode()
    li = html.split(f'id="pass-{ledger["r1"].pk}"', 1)[1].split("</li>", 1)[0]
    assert "pass-code" not in li and "<svg" not in li
    assert p1.code not in html
    assert services.pass_active(ledger["r1"].pk) is None


def test_household_page_leaves_out_who_moved_out(client, staff, ledger, h1_link):
    r1b = ledger["r1b"]
    r1b.presence = "moved_out"
    r1b.save(update_fields=["presence"])
    open_link(client, h1_link[1])
    resp = client.get(my(ledger["h1"].pk))
    assert [c["member"].pk for c in resp.context["cards"]] == [ledger["r1"].pk]
    assert "王大明" not in resp.content.decode()


@pytest.mark.parametrize("other", ["h2", "h3", "ho"])
def test_changing_the_id_in_the_url_is_a_404(client, ledger, h1_link, other):
    open_link(client, h1_link[1])
    assert client.get(my(ledger["h1"].pk)).status_code == 200
    resp = client.get(my(ledger[other].pk))
    assert resp.status_code == 404
    for name in OTHER_NAMES:
        assert name not in resp.content.decode()


def test_no_session_no_household_page(client, ledger):
    assert client.get(my(ledger["h1"].pk)).status_code == 404


def test_my_with_a_link_session_goes_to_the_household(client, ledger, h1_link):
    open_link(client, h1_link[1])
    resp = client.get("/my/")
    assert resp.status_code == 302 and resp["Location"] == my(ledger["h1"].pk)


def test_my_without_session_is_the_start_page(client, db):
    resp = client.get("/my/")
    assert resp.status_code == 200
    assert "residents/start.html" in [t.name for t in resp.templates]


def test_link_revoke_ends_the_session_at_once(client, staff, ledger, h1_link):
    open_link(client, h1_link[1])
    assert client.get(my(ledger["h1"].pk)).status_code == 200
    assert services.link_revoke(actor=staff, household=ledger["h1"]) == 1
    assert client.get(my(ledger["h1"].pk)).status_code == 404
    resp = client.get("/my/")
    assert resp.status_code == 200
    assert "residents/start.html" in [t.name for t in resp.templates]
    assert AuditEvent.objects.filter(action="link.revoke").count() == 1
    # Revoking again finds nothing to revoke and writes nothing.
    assert services.link_revoke(actor=staff, household=ledger["h1"]) == 0
    assert AuditEvent.objects.filter(action="link.revoke").count() == 1


def test_link_replace_ends_the_old_session_and_the_new_link_works(client, staff, ledger, h1_link):
    open_link(client, h1_link[1])
    assert client.get(my(ledger["h1"].pk)).status_code == 200
    _new, token2 = services.link_issue(actor=staff, household=ledger["h1"], replace=True)
    assert client.get(my(ledger["h1"].pk)).status_code == 404
    assert open_link(client, h1_link[1]).status_code == 404
    other = Client()
    assert open_link(other, token2).status_code == 302
    assert other.get(my(ledger["h1"].pk)).status_code == 200


@pytest.mark.parametrize(
    "token", ["abc", "x" * 22, "Zm9vYmFyYmF6cXV4cXV1eA", "y" * 80, "%20%20%20"]
)
def test_invalid_token_is_a_404_page_with_a_message(client, ledger, h1_link, token):
    resp = open_link(client, token)
    assert resp.status_code == 404
    assert "residents/link_invalid.html" in [t.name for t in resp.templates]
    assert resp.context["error"].code == "link_invalid"
    html = resp.content.decode()
    assert "This link does not work" in html
    assert "/my/signin/" in html
    assert client.get(my(ledger["h1"].pk)).status_code == 404


def test_revoked_token_is_a_404_page(client, staff, ledger, h1_link):
    services.link_revoke(actor=staff, household=ledger["h1"])
    resp = open_link(client, h1_link[1])
    assert resp.status_code == 404
    assert "replaced or withdrawn" in resp.content.decode()
    link = h1_link[0]
    link.refresh_from_db()
    assert link.use_count == 0


def test_opening_the_link_changes_the_session_key(client, ledger, h1_link):
    """Session fixation: a session id planted before the link is opened is worthless."""
    s = client.session
    s["planted"] = "by someone else"
    s.save()
    before = session_key(client)
    assert before
    open_link(client, h1_link[1])
    after = session_key(client)
    assert after and after != before
    assert client.get(my(ledger["h1"].pk)).status_code == 200
    attacker = Client()
    attacker.cookies[settings.SESSION_COOKIE_NAME] = before
    assert attacker.get(my(ledger["h1"].pk)).status_code == 404


def test_resident_session_and_staff_login_do_not_interfere(client, staff, ledger, h1_link):
    # Staff signs in, then opens a household link in the same browser.
    client.force_login(staff)
    assert client.get(f"/households/{ledger['h1'].pk}/").status_code == 200
    open_link(client, h1_link[1])
    assert client.get(f"/households/{ledger['h1'].pk}/").status_code == 200
    assert client.get(my(ledger["h1"].pk)).status_code == 200
    # The staff login does not open other households' resident pages.
    assert client.get(my(ledger["h2"].pk)).status_code == 404
    # Signing out of the household page keeps the staff login.
    resp = client.post("/my/signout/")
    assert resp.status_code == 302
    assert client.get(my(ledger["h1"].pk)).status_code == 404
    assert client.get(f"/households/{ledger['h1'].pk}/").status_code == 200


def test_signing_in_as_staff_on_the_login_page_keeps_the_resident_session(
    client, staff, ledger, h1_link
):
    from shouwang.core.testing import PASSWORD

    open_link(client, h1_link[1])
    resident_key = session_key(client)
    resp = client.post("/accounts/login/", {"username": "staff", "password": PASSWORD})
    assert resp.status_code == 302
    assert session_key(client) != resident_key  # a new id on sign-in as well
    assert client.get(f"/households/{ledger['h1'].pk}/").status_code == 200
    assert client.get(my(ledger["h1"].pk)).status_code == 200
    assert client.get(my(ledger["h2"].pk)).status_code == 404


def test_staff_login_after_the_link_keeps_the_resident_session(client, staff, ledger, h1_link):
    open_link(client, h1_link[1])
    client.force_login(staff)
    assert client.get(my(ledger["h1"].pk)).status_code == 200
    assert client.get(f"/households/{ledger['h1'].pk}/").status_code == 200


def test_two_browsers_with_two_links(staff, ledger, h1_link):
    _l2, token2 = services.link_issue(actor=staff, household=ledger["h2"])
    a, b = Client(), Client()
    open_link(a, h1_link[1])
    open_link(b, token2)
    assert a.get(my(ledger["h1"].pk)).status_code == 200
    assert a.get(my(ledger["h2"].pk)).status_code == 404
    assert b.get(my(ledger["h2"].pk)).status_code == 200
    assert b.get(my(ledger["h1"].pk)).status_code == 404


def test_signout(client, ledger, h1_link):
    open_link(client, h1_link[1])
    assert client.get("/my/signout/").status_code == 405
    resp = client.post("/my/signout/")
    assert resp.status_code == 302 and resp["Location"] == "/my/"
    assert client.get(my(ledger["h1"].pk)).status_code == 404


def test_phone_session_of_a_member(client, ledger):
    sign_in_with_phone(client, "+8613912345678")  # 王小明's phone
    assert client.get(my(ledger["h1"].pk)).status_code == 200
    assert client.get(my(ledger["h2"].pk)).status_code == 404
    # A member who moves out loses access at once.
    r1 = ledger["r1"]
    r1.presence = "moved_out"
    r1.save(update_fields=["presence"])
    assert client.get(my(ledger["h1"].pk)).status_code == 404


# --- consents ---------------------------------------------------------------------------------


def test_consent_grant_for_a_phone(staff, ledger):
    c = grant_phone(staff, ledger["h1"])
    c.refresh_from_db()
    assert c.proxy_user is None
    assert c.proxy_name == "王女儿"
    assert c.proxy_phone_index == phone_index(PROXY_PHONE)
    assert crypto.decrypt(c.proxy_phone_enc) == PROXY_PHONE
    assert c.proxy_phone_masked == "136****9999"
    assert c.community_id == ledger["h1"].community_id
    assert c.recorded_by == staff and c.active and c.resident is None
    ev = AuditEvent.objects.get(action="consent.grant")
    assert PROXY_PHONE not in ev.summary and "13600009999" not in ev.summary
    assert ev.target_id == str(ledger["h1"].pk)


def test_consent_grant_for_a_user(staff, ledger, volunteer):
    c = grant_user(staff, ledger["h1"], volunteer, resident=ledger["r1b"])
    c.refresh_from_db()
    assert c.proxy_user == volunteer
    assert c.proxy_name == "陈志愿"
    assert c.proxy_phone_index == "" and c.proxy_phone_enc == ""
    assert c.resident == ledger["r1b"]


def test_consent_grant_for_a_user_without_display_name_uses_the_username(staff, ledger, personas):
    c = grant_user(staff, ledger["h1"], personas["merchant"])
    assert c.proxy_name == "merchant"


def test_consent_needs_exactly_one_proxy_in_the_database(staff, ledger, volunteer):
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        Consent.objects.create(
            community_id=ledger["h1"].community_id,
            household=ledger["h1"],
            proxy_user=volunteer,
            proxy_phone_index=phone_index(PROXY_PHONE),
            proxy_name="x",
            relation="other",
            granted_on=timezone.localdate(),
        )
    with pytest.raises(IntegrityError), transaction.atomic():
        Consent.objects.create(
            community_id=ledger["h1"].community_id,
            household=ledger["h1"],
            proxy_name="x",
            relation="other",
            granted_on=timezone.localdate(),
        )


@pytest.mark.parametrize(
    "change, key",
    [
        ({"proxy_phone": "12345"}, "proxy_phone"),
        ({"proxy_phone": "+8612345678901"}, "proxy_phone"),
        ({"proxy_phone": ""}, "proxy_phone"),
        ({"proxy_name": "   "}, "proxy_name"),
        ({"relation": "lover"}, "relation"),
        ({"granted_on": "tomorrow"}, "granted_on"),
        ({"granted_on": None}, "granted_on"),
        ({"resident": "r2"}, "resident"),
    ],
)
def test_consent_grant_validation_phone(staff, ledger, change, key):
    kw = {
        "actor": staff,
        "household": ledger["h1"],
        "relation": "family",
        "granted_on": timezone.localdate(),
        "proxy_name": "王女儿",
        "proxy_phone": PROXY_PHONE,
    }
    change = dict(change)
    if change.get("granted_on") == "tomorrow":
        change["granted_on"] = timezone.localdate() + timedelta(days=1)
    if change.get("resident") == "r2":
        change["resident"] = ledger["r2"]
    kw.update(change)
    with pytest.raises(DomainError) as info:
        services.consent_grant(**kw)
    assert info.value.code == "invalid"
    assert key in info.value.fields
    assert Consent.objects.count() == 0
    assert not AuditEvent.objects.filter(action="consent.grant").exists()


def test_consent_grant_validation_user_of_another_community(staff, ledger, personas):
    with pytest.raises(DomainError) as info:
        grant_user(staff, ledger["h1"], personas["outsider"])
    assert "proxy_user" in info.value.fields
    assert Consent.objects.count() == 0


def test_consent_grant_validation_inactive_user(staff, ledger, volunteer):
    volunteer.is_active = False
    volunteer.save(update_fields=["is_active"])
    with pytest.raises(DomainError) as info:
        grant_user(staff, ledger["h1"], volunteer)
    assert "proxy_user" in info.value.fields


def test_consent_grant_reports_several_fields_at_once(staff, ledger):
    with pytest.raises(DomainError) as info:
        services.consent_grant(
            actor=staff,
            household=ledger["h1"],
            relation="nope",
            granted_on=timezone.localdate() + timedelta(days=3),
            proxy_name="",
            proxy_phone="abc",
            resident=ledger["r3"],
        )
    assert {"relation", "granted_on", "proxy_name", "proxy_phone", "resident"} <= set(
        info.value.fields
    )


def test_consent_revoke_is_idempotent(staff, ledger, personas):
    c = grant_phone(staff, ledger["h1"])
    services.consent_revoke(actor=staff, consent=c)
    c.refresh_from_db()
    first = c.revoked_at
    assert first is not None and c.revoked_by == staff and not c.active
    services.consent_revoke(actor=personas["admin"], consent=c)
    c.refresh_from_db()
    assert c.revoked_at == first and c.revoked_by == staff
    assert AuditEvent.objects.filter(action="consent.revoke").count() == 1


# --- behalf_authorize -----------------------------------------------------------------------


def test_behalf_authorize_refuses_without_consent(ledger, volunteer):
    with pytest.raises(Forbidden) as info:
        services.behalf_authorize(household_id=ledger["h1"].pk, user=volunteer)
    assert info.value.code == "no_consent"
    with pytest.raises(Forbidden):
        services.behalf_authorize(
            household_id=ledger["h1"].pk, phone_index=phone_index(PROXY_PHONE)
        )
    with pytest.raises(Forbidden):
        services.behalf_authorize(household_id=ledger["h1"].pk)


def test_behalf_authorize_with_consent_and_after_revoke(staff, ledger, volunteer):
    cu = grant_user(staff, ledger["h1"], volunteer)
    cp = grant_phone(staff, ledger["h1"])
    h1 = ledger["h1"].pk
    assert services.behalf_authorize(household_id=h1, user=volunteer) == cu
    assert services.behalf_authorize(household_id=h1, phone_index=phone_index(PROXY_PHONE)) == cp
    # Only for the household that consented.
    with pytest.raises(Forbidden):
        services.behalf_authorize(household_id=ledger["h2"].pk, user=volunteer)
    with pytest.raises(Forbidden):
        services.behalf_authorize(
            household_id=ledger["h2"].pk, phone_index=phone_index(PROXY_PHONE)
        )
    services.consent_revoke(actor=staff, consent=cu)
    services.consent_revoke(actor=staff, consent=cp)
    with pytest.raises(Forbidden):
        services.behalf_authorize(household_id=h1, user=volunteer)
    with pytest.raises(Forbidden):
        services.behalf_authorize(household_id=h1, phone_index=phone_index(PROXY_PHONE))


def test_behalf_authorize_member_consent_only_for_that_member(staff, ledger, volunteer):
    c = grant_user(staff, ledger["h1"], volunteer, resident=ledger["r1b"])
    h1 = ledger["h1"].pk
    assert (
        services.behalf_authorize(household_id=h1, resident_id=ledger["r1b"].pk, user=volunteer)
        == c
    )
    with pytest.raises(Forbidden):
        services.behalf_authorize(household_id=h1, resident_id=ledger["r1"].pk, user=volunteer)


def test_behalf_authorize_prefers_the_whole_household_consent(staff, ledger, volunteer):
    whole = grant_user(staff, ledger["h1"], volunteer)
    grant_user(staff, ledger["h1"], volunteer, resident=ledger["r1"])
    got = services.behalf_authorize(
        household_id=ledger["h1"].pk, resident_id=ledger["r1"].pk, user=volunteer
    )
    assert got == whole


def test_behalf_record_writes_who_did_what(staff, ledger, volunteer):
    c = grant_user(staff, ledger["h1"], volunteer)
    a = services.behalf_record(consent=c, action="queue.take", summary="took number 12")
    assert a.household_id == ledger["h1"].pk and a.community_id == c.community_id
    assert a.actor_name == "陈志愿" and a.consent == c and a.resident_id is None


# --- a proxy on the residents' pages ------------------------------------------------------------


def test_volunteer_with_consent_opens_the_household_once_a_day_recorded(
    client, staff, ledger, volunteer
):
    p1 = services.pass_issue(actor=staff, resident=ledger["r1"])
    c = grant_user(staff, ledger["h1"], volunteer)
    client.force_login(volunteer)
    resp = client.get(my(ledger["h1"].pk))
    assert resp.status_code == 200
    assert resp.context["consent"] == c
    html = resp.content.decode()
    assert "You are acting for this household as 陈志愿" in html
    assert tokens.grouped(tokens.token_for(p1.code)) in html
    assert BehalfAction.objects.filter(consent=c).count() == 1
    a = BehalfAction.objects.get(consent=c)
    assert a.household_id == ledger["h1"].pk and a.actor_name == "陈志愿"
    assert a.action == "passes.view"
    # The second visit the same day adds nothing.
    assert client.get(my(ledger["h1"].pk)).status_code == 200
    assert BehalfAction.objects.filter(consent=c).count() == 1
    # Other households stay closed.
    assert client.get(my(ledger["h2"].pk)).status_code == 404
    assert client.get(my(ledger["h3"].pk)).status_code == 404


def test_a_visit_on_an_earlier_day_does_not_count_for_today(client, staff, ledger, volunteer):
    c = grant_user(staff, ledger["h1"], volunteer)
    old = services.behalf_record(consent=c, action="passes.view", summary="opened")
    BehalfAction.objects.filter(pk=old.pk).update(at=timezone.now() - timedelta(days=1, hours=1))
    client.force_login(volunteer)
    client.get(my(ledger["h1"].pk))
    assert BehalfAction.objects.filter(consent=c).count() == 2


def test_household_sees_what_was_done_on_its_behalf(client, staff, ledger, volunteer, h1_link):
    grant_user(staff, ledger["h1"], volunteer)
    vol = Client()
    vol.force_login(volunteer)
    assert vol.get(my(ledger["h1"].pk)).status_code == 200

    open_link(client, h1_link[1])
    resp = client.get(my(ledger["h1"].pk))
    assert resp.status_code == 200
    assert resp.context["consent"] is None
    s = section(resp, "behalf")
    assert s is not None
    assert [a.actor_name for a in s["actions"]] == ["陈志愿"]
    html = resp.content.decode()
    assert "Done on your behalf" in html
    body = html.split('id="behalf"', 1)[1]
    assert "陈志愿" in body
    assert "Nobody has acted for your household yet" not in body
    # The neighbours' page shows nothing of it.
    _l2, token2 = services.link_issue(actor=staff, household=ledger["h2"])
    other = Client(HTTP_ACCEPT_LANGUAGE="en")
    open_link(other, token2)
    resp2 = other.get(my(ledger["h2"].pk))
    assert section(resp2, "behalf")["actions"] == []
    assert "陈志愿" not in resp2.content.decode()


def test_revoked_consent_closes_the_page_for_the_volunteer(client, staff, ledger, volunteer):
    c = grant_user(staff, ledger["h1"], volunteer)
    client.force_login(volunteer)
    assert client.get(my(ledger["h1"].pk)).status_code == 200
    services.consent_revoke(actor=staff, consent=c)
    assert client.get(my(ledger["h1"].pk)).status_code == 404


def test_volunteer_my_lists_the_households_it_may_act_for(client, staff, ledger, volunteer):
    grant_user(staff, ledger["h1"], volunteer)
    client.force_login(volunteer)
    resp = client.get("/my/")
    assert resp.status_code == 200
    assert [h.pk for h in resp.context["proxied"]] == [ledger["h1"].pk]
    assert resp.context["own"] == []
    resp = client.get("/proxy/")
    assert resp.status_code == 200
    assert [h.pk for _c, h in resp.context["rows"]] == [ledger["h1"].pk]


def test_consent_for_one_member_shows_only_that_members_pass(client, staff, ledger, volunteer):
    p1 = services.pass_issue(actor=staff, resident=ledger["r1"])
    p1b = services.pass_issue(actor=staff, resident=ledger["r1b"])
    c = grant_user(staff, ledger["h1"], volunteer, resident=ledger["r1b"])
    client.force_login(volunteer)
    resp = client.get(my(ledger["h1"].pk))
    assert resp.status_code == 200
    assert resp.context["consent"] == c
    assert [card["member"].pk for card in resp.context["cards"]] == [ledger["r1b"].pk]
    html = resp.content.decode()
    assert tokens.grouped(tokens.token_for(p1b.code)) in html
    assert tokens.grouped(tokens.token_for(p1.code)) not in html


def test_member_consent_never_shows_the_other_members_pass(client, staff, ledger, volunteer):
    """Whatever the page does with a consent for one member, the other members' passes are
    never shown to the proxy."""
    p1 = services.pass_issue(actor=staff, resident=ledger["r1"])
    grant_user(staff, ledger["h1"], volunteer, resident=ledger["r1b"])
    client.force_login(volunteer)
    resp = client.get(my(ledger["h1"].pk))
    assert tokens.grouped(tokens.token_for(p1.code)) not in resp.content.decode()
    assert p1.code not in resp.content.decode()


def test_phone_proxy_opens_only_the_consented_household(client, staff, ledger):
    p1 = services.pass_issue(actor=staff, resident=ledger["r1"])
    c = grant_phone(staff, ledger["h1"])
    index = phone_index(PROXY_PHONE)
    assert access.households_of_phone(index) == []
    assert access.proxied_households(phone_index=index) == [ledger["h1"].pk]
    sign_in_with_phone(client, PROXY_PHONE)

    resp = client.get("/my/")
    assert resp.status_code == 200
    assert resp.context["own"] == []
    assert [h.pk for h in resp.context["proxied"]] == [ledger["h1"].pk]

    resp = client.get(my(ledger["h1"].pk))
    assert resp.status_code == 200
    assert resp.context["consent"] == c
    assert tokens.grouped(tokens.token_for(p1.code)) in resp.content.decode()
    assert BehalfAction.objects.filter(consent=c, actor_name="王女儿").count() == 1
    for other in ("h2", "h3", "ho"):
        assert client.get(my(ledger[other].pk)).status_code == 404

    services.consent_revoke(actor=staff, consent=c)
    assert client.get(my(ledger["h1"].pk)).status_code == 404
    assert "residents/start.html" in [t.name for t in client.get("/my/").templates]


def test_a_member_who_is_also_a_proxy_sees_both(client, staff, ledger):
    """李四 (h2) may act for h1: own household and the proxied one."""
    grant_phone(staff, ledger["h1"], phone="+8618600001111", name="李四")
    sign_in_with_phone(client, "+8618600001111")
    resp = client.get("/my/")
    assert [h.pk for h in resp.context["own"]] == [ledger["h2"].pk]
    assert [h.pk for h in resp.context["proxied"]] == [ledger["h1"].pk]
    assert client.get(my(ledger["h1"].pk)).context["consent"] is not None
    assert client.get(my(ledger["h2"].pk)).context["consent"] is None
    assert client.get(my(ledger["h3"].pk)).status_code == 404


# --- elder mode -------------------------------------------------------------------------------


def test_elder_toggle_sets_the_cookie(client, db):
    resp = client.post("/my/elder/", {"on": "1", "next": "/my/"})
    assert resp.status_code == 302 and resp["Location"] == "/my/"
    cookie = resp.cookies[access.ELDER_COOKIE]
    assert cookie.value == "1"
    assert int(cookie["max-age"]) >= 300 * 86400
    assert cookie["httponly"]
    resp = client.post("/my/elder/", {"on": "0", "next": "/my/"})
    assert resp.cookies[access.ELDER_COOKIE].value == "0"


def test_elder_toggle_without_on_flips(client, db):
    resp = client.post("/my/elder/")
    assert resp.cookies[access.ELDER_COOKIE].value == "1"
    assert resp["Location"] == "/my/"
    resp = client.post("/my/elder/")  # the client sends the cookie back
    assert resp.cookies[access.ELDER_COOKIE].value == "0"
    resp = client.post("/my/elder/")
    assert resp.cookies[access.ELDER_COOKIE].value == "1"


def test_elder_get_is_not_allowed(client, db):
    assert client.get("/my/elder/").status_code == 405


@pytest.mark.parametrize(
    "nxt",
    [
        "https://evil.example",
        "https://evil.example/my/",
        "//evil.example/",
        "http://evil.example@testserver.evil.example/",
        "javascript:alert(1)",
        "/\\evil.example/",
        "https:///evil.example",
    ],
)
def test_elder_redirect_only_to_this_site(client, db, nxt):
    resp = client.post("/my/elder/", {"on": "1", "next": nxt})
    assert resp.status_code == 302
    assert resp["Location"] == "/my/"


def test_elder_redirect_back_to_a_local_page(client, ledger, h1_link):
    nxt = my(ledger["h1"].pk) + "?x=1"
    resp = client.post("/my/elder/", {"on": "1", "next": nxt})
    assert resp["Location"] == nxt


def test_elder_class_on_the_html(client, ledger, h1_link):
    open_link(client, h1_link[1])
    page = my(ledger["h1"].pk)
    html = client.get(page).content.decode()
    assert 'class="elder"' not in html.split("<head>")[0]
    assert 'name="on" value="1"' in html  # the toggle offers to switch it on

    client.post("/my/elder/", {"on": "1", "next": page})
    html = client.get(page).content.decode()
    assert '<html lang="en" class="elder">' in html
    assert 'name="on" value="0"' in html

    client.post("/my/elder/", {"on": "0", "next": page})
    html = client.get(page).content.decode()
    assert 'class="elder"' not in html.split("<head>")[0]

    # It lives in a cookie of its own: the start page without any session has it too.
    start = Client(HTTP_ACCEPT_LANGUAGE="en")
    start.cookies[access.ELDER_COOKIE] = "1"
    assert '<html lang="en" class="elder">' in start.get("/my/").content.decode()
