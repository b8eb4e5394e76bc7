"""The service directory: staff of a community keep the phone numbers printed on the back of the
cards. Create, edit, delete; field errors; scope (another community's rows are a 404); audit."""

from __future__ import annotations

import pytest
from django.urls import reverse

from shouwang.core.models import AuditEvent
from shouwang.residents.models import DirectoryEntry

pytestmark = pytest.mark.django_db

URL = reverse("residents:directory")


def _valid(**kw):
    data = {
        "kind": "pharmacy",
        "name": "老百姓大药房",
        "phone": "021-5555 0202",
        "address": "华美路 12 号",
        "distance_m": "300",
        "hours": "8:00–20:00",
        "on_card": "on",
        "sort": "",
    }
    data.update(kw)
    return data


@pytest.fixture(autouse=True)
def _english_pages(client):
    """The assertions read the English messages: ask for English as a browser would."""
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"


@pytest.fixture
def entry(community):
    return DirectoryEntry.objects.create(
        community=community, kind="committee", name="华美社区居委会", phone="021-5555 0101"
    )


@pytest.fixture
def foreign(other_community):
    return DirectoryEntry.objects.create(
        community=other_community, kind="clinic", name="别处诊所", phone="021-6666 0000"
    )


def test_list_groups_entries_by_kind_and_shows_only_the_own_community(
    client, personas, entry, foreign
):
    DirectoryEntry.objects.create(
        community=entry.community, kind="pharmacy", name="老百姓大药房", phone="021-5555 0202"
    )
    client.force_login(personas["staff"])
    r = client.get(URL)
    assert r.status_code == 200
    html = r.content.decode()
    assert 'data-kind="committee"' in html and 'data-kind="pharmacy"' in html
    assert html.index('data-kind="committee"') < html.index('data-kind="pharmacy"')
    assert "华美社区居委会" in html and "021-5555 0101" in html
    assert "别处诊所" not in html and "021-6666 0000" not in html
    assert 'id="add"' in html


def test_add_creates_an_entry_in_the_users_community_and_audits_it(client, personas, community):
    client.force_login(personas["admin"])
    r = client.post(URL, _valid())
    assert r.status_code == 302 and r["Location"] == URL
    e = DirectoryEntry.objects.get()
    assert e.community_id == community.pk
    assert (e.kind, e.name, e.phone, e.distance_m, e.on_card, e.sort) == (
        "pharmacy",
        "老百姓大药房",
        "021-5555 0202",
        300,
        True,
        0,
    )
    ev = AuditEvent.objects.get(action="directory.add")
    assert ev.actor_id == personas["admin"].pk and ev.community_id == community.pk
    assert ev.target_id == str(e.pk) and "021-5555 0202" in ev.summary


def test_full_width_input_is_normalised(client, personas):
    client.force_login(personas["staff"])
    r = client.post(URL, _valid(phone="（０２１）５５５５－０２０２", name="  药房  "))
    assert r.status_code == 302
    e = DirectoryEntry.objects.get()
    assert (e.phone, e.name) == ("(021)5555-0202", "药房")


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("phone", "", "Give a phone number"),
        ("phone", "call me", "digits only"),
        ("phone", "021 5555 abcd", "digits only"),
        ("phone", "12", "has 2 digits"),
        ("phone", "1+2345678", "digits only"),
        ("name", "", "Give the name"),
        ("name", "   ", "Give the name"),
        ("kind", "", "Choose what kind"),
        ("distance_m", "5001", "from 0 to 5000"),
        ("distance_m", "-1", ""),
        ("distance_m", "near", ""),
    ],
)
def test_field_errors_are_shown_next_to_the_field(client, personas, field, value, message):
    client.force_login(personas["staff"])
    r = client.post(URL, _valid(**{field: value}))
    assert r.status_code == 400
    form = r.context["form"]
    assert field in form.errors, form.errors
    assert message in " ".join(form.errors[field])
    html = r.content.decode()
    assert "field has-error" in html and 'class="field-error"' in html
    assert DirectoryEntry.objects.count() == 0
    assert not AuditEvent.objects.filter(action__startswith="directory.").exists()


@pytest.mark.parametrize("phone", ["120", "12345", "+86 21 5555 0101", "(021) 5555-0101"])
def test_phone_shapes_that_are_accepted(client, personas, phone):
    client.force_login(personas["staff"])
    assert client.post(URL, _valid(phone=phone)).status_code == 302


def test_distance_is_optional(client, personas):
    client.force_login(personas["staff"])
    assert client.post(URL, _valid(distance_m="")).status_code == 302
    assert DirectoryEntry.objects.get().distance_m is None


def test_edit_changes_the_entry_and_audits_what_changed(client, personas, entry):
    client.force_login(personas["admin"])
    url = reverse("residents:directory_edit", args=[entry.pk])
    r = client.get(url)
    assert r.status_code == 200 and "华美社区居委会" in r.content.decode()
    r = client.post(
        url,
        {"kind": "committee", "name": "华美社区居委会", "phone": "021-5555 0199", "on_card": "on"},
    )
    assert r.status_code == 302
    entry.refresh_from_db()
    assert entry.phone == "021-5555 0199"
    ev = AuditEvent.objects.get(action="directory.edit")
    assert ev.target_id == str(entry.pk) and "phone" in ev.summary


def test_edit_without_changes_writes_no_audit_row(client, personas, entry):
    client.force_login(personas["admin"])
    url = reverse("residents:directory_edit", args=[entry.pk])
    r = client.post(
        url,
        {
            "kind": "committee",
            "name": entry.name,
            "phone": entry.phone,
            "on_card": "on",
            "sort": "0",
        },
    )
    assert r.status_code == 302
    assert not AuditEvent.objects.filter(action="directory.edit").exists()


def test_edit_with_errors_keeps_the_title_and_the_stored_row(client, personas, entry):
    client.force_login(personas["staff"])
    url = reverse("residents:directory_edit", args=[entry.pk])
    r = client.post(url, {"kind": "committee", "name": "", "phone": "abc"})
    assert r.status_code == 400
    assert set(r.context["form"].errors) >= {"name", "phone"}
    assert "<h1>华美社区居委会</h1>" in r.content.decode()
    entry.refresh_from_db()
    assert entry.phone == "021-5555 0101"


def test_delete_is_post_only_and_audited(client, personas, entry):
    client.force_login(personas["admin"])
    url = reverse("residents:directory_delete", args=[entry.pk])
    assert client.get(url).status_code == 405
    assert DirectoryEntry.objects.filter(pk=entry.pk).exists()
    r = client.post(url)
    assert r.status_code == 302 and r["Location"] == URL
    assert not DirectoryEntry.objects.filter(pk=entry.pk).exists()
    ev = AuditEvent.objects.get(action="directory.delete")
    assert ev.target_id == str(entry.pk) and "华美社区居委会" in ev.summary


def test_another_communitys_entry_is_not_found(client, personas, foreign):
    client.force_login(personas["admin"])
    edit = reverse("residents:directory_edit", args=[foreign.pk])
    delete = reverse("residents:directory_delete", args=[foreign.pk])
    assert client.get(edit).status_code == 404
    assert client.post(edit, _valid()).status_code == 404
    assert client.post(delete).status_code == 404
    foreign.refresh_from_db()
    assert foreign.phone == "021-6666 0000"
    assert not AuditEvent.objects.filter(action__startswith="directory.").exists()


def test_outsider_cannot_reach_this_communitys_entry(client, personas, entry):
    client.force_login(personas["outsider"])
    assert client.get(reverse("residents:directory_edit", args=[entry.pk])).status_code == 404
    assert client.post(reverse("residents:directory_delete", args=[entry.pk])).status_code == 404
    r = client.get(URL)
    assert r.status_code == 200 and "华美社区居委会" not in r.content.decode()
    assert DirectoryEntry.objects.filter(pk=entry.pk).exists()


@pytest.mark.parametrize("persona", ["grid_leader", "guard", "volunteer", "resident", "district"])
def test_roles_without_the_capability_are_refused(client, personas, entry, persona):
    client.force_login(personas[persona])
    assert client.get(URL).status_code == 403
    assert client.post(URL, _valid()).status_code == 403
    assert client.post(reverse("residents:directory_delete", args=[entry.pk])).status_code == 403
    assert DirectoryEntry.objects.count() == 1


def test_anonymous_is_sent_to_sign_in(client, entry):
    r = client.get(URL)
    assert r.status_code == 302 and "/accounts/login/" in r["Location"]


def test_garbage_ids_are_not_found(client, personas):
    client.force_login(personas["admin"])
    assert client.get(f"/directory/{2**63}/edit/").status_code == 404
