"""Joining on a phone: the public sign-up page, the sign-up of a signed-in user, the poster, my
profile (with availability) and the daily declaration."""

from __future__ import annotations

import pytest
from django.urls import reverse

from shouwang.accounts.models import User
from shouwang.checkpoints.models import Availability
from shouwang.volunteers.models import Declaration, Volunteer, VolunteerStatus
from shouwang.volunteers.selectors import teams_for
from shouwang.volunteers.testing import make_volunteer

pytestmark = pytest.mark.django_db


def _join_url(community):
    return reverse("volunteers:join", args=[community.code])


def test_public_page_is_small_and_phone_friendly(client, community):
    r = client.get(_join_url(community))
    assert r.status_code == 200
    html = r.content.decode()
    assert community.name in html
    assert 'inputmode="tel"' in html and 'name="viewport"' in html
    assert "btn primary big wide" in html
    # The six default teams to wish for.
    assert html.count('name="wishes"') == 6
    # Nothing but the community's name leaks.
    assert "staff" not in html.lower() or "Committee or property staff" in html


def test_unknown_community_is_404(client, db):
    assert client.get("/volunteers/join/NOPE/").status_code == 404


def test_public_sign_up_creates_user_signs_in_and_waits(client, community):
    team = teams_for(community.pk).first()
    r = client.post(
        _join_url(community),
        {
            "name": "王小明",
            "phone": "13912345678",
            "password": "longer-pass-2022",
            "origin": "outside",
            "organisation": "某某公司",
            "skills": ["driving", "lifting"],
            "wishes": [team.pk],
        },
    )
    assert r.status_code == 302 and r["Location"] == reverse("volunteers:me")
    v = Volunteer.objects.get()
    assert (v.name, v.phone, v.origin, v.status) == (
        "王小明",
        "+8613912345678",
        "outside",
        VolunteerStatus.PENDING,
    )
    assert v.skills == ["driving", "lifting"] and list(v.wishes.all()) == [team]
    # Signed in as the new user: the profile page opens.
    r = client.get(reverse("volunteers:profile"))
    assert r.status_code == 200 and "Waiting for approval" in r.content.decode()
    # And they can sign in later with the phone and the password.
    client.logout()
    assert client.login(username="13912345678", password="longer-pass-2022")


def test_public_sign_up_errors_stay_on_the_page(client, community):
    r = client.post(
        _join_url(community),
        {"name": "", "phone": "12345", "password": "", "origin": "resident"},
    )
    assert r.status_code == 200
    html = r.content.decode()
    assert html.count('class="field-error"') == 3  # name, phone, password
    assert "11" in html  # the phone message says how many digits
    assert (
        not User.objects.filter(role="volunteer", username__startswith="1")
        .exclude(username="volunteer")
        .exists()
    )


def test_public_sign_up_twice_with_one_phone_says_sign_in(client, community):
    data = {
        "name": "甲",
        "phone": "13912345678",
        "password": "longer-pass-2022",
        "origin": "resident",
    }
    assert client.post(_join_url(community), data).status_code == 302
    client.logout()
    r = client.post(_join_url(community), {**data, "name": "乙"})
    assert r.status_code == 200
    assert "already signed up" in r.content.decode()
    assert Volunteer.objects.count() == 1


def test_signed_in_user_is_sent_to_own_sign_up(client, community, personas):
    client.force_login(personas["resident"])
    r = client.get(_join_url(community))
    assert r.status_code == 302 and r["Location"] == reverse("volunteers:join_me")
    r = client.get(reverse("volunteers:join_me"))
    assert r.status_code == 200 and 'name="password"' not in r.content.decode()
    r = client.post(
        reverse("volunteers:join_me"),
        {"name": "居民", "phone": "13912345678", "origin": "resident"},
    )
    assert r.status_code == 302
    v = Volunteer.objects.get()
    assert v.user_id == personas["resident"].pk and v.status == VolunteerStatus.PENDING
    # Already signed up: to the profile.
    r = client.get(reverse("volunteers:join_me"))
    assert r.status_code == 302 and r["Location"] == reverse("volunteers:profile")


def test_join_poster_has_the_qr_of_the_join_link(client, community, personas):
    client.force_login(personas["staff"])
    r = client.get(reverse("volunteers:join_poster"))
    assert r.status_code == 200
    html = r.content.decode()
    assert "<svg" in html
    assert f"http://testserver/volunteers/join/{community.code}/" in html
    client.force_login(personas["volunteer"])
    assert client.get(reverse("volunteers:join_poster")).status_code == 403


def test_profile_saves_and_shows_errors(client, community, personas):
    v = make_volunteer(community, user=personas["volunteer"], phone="13900001111")
    client.force_login(personas["volunteer"])
    url = reverse("volunteers:profile")
    r = client.get(url)
    assert r.status_code == 200 and "13900001111" in r.content.decode()
    r = client.post(
        url,
        {
            "name": v.name,
            "phone": "13900001111",
            "origin": "resident",
            "skills": ["medical"],
            "hide_from_board": "on",
        },
    )
    assert r.status_code == 302
    v.refresh_from_db()
    assert v.skills == ["medical"] and v.hide_from_board is True
    r = client.post(url, {"name": "", "phone": "139", "origin": "resident"})
    assert r.status_code == 200 and r.content.decode().count('class="field-error"') == 2


def test_profile_without_a_volunteer_goes_to_join(client, personas):
    client.force_login(personas["resident"])
    r = client.get(reverse("volunteers:profile"))
    assert r.status_code == 302 and r["Location"] == reverse("volunteers:join_me")


def test_profile_availability_add_and_remove(client, community, personas):
    make_volunteer(community, user=personas["volunteer"])
    client.force_login(personas["volunteer"])
    r = client.post(
        reverse("volunteers:profile_availability_add"),
        {"weekday": "5", "starts_at": "08:00", "ends_at": "12:00"},
    )
    assert r.status_code == 302
    row = Availability.objects.get(user=personas["volunteer"])
    assert (row.weekday, row.starts_at.hour, row.ends_at.hour) == (5, 8, 12)
    # Someone else's row: refused.
    theirs = Availability.objects.create(
        community=community, user=personas["guard"], weekday=1, starts_at="08:00", ends_at="10:00"
    )
    r = client.post(reverse("volunteers:profile_availability_remove", args=[theirs.pk]))
    assert r.status_code == 403
    r = client.post(reverse("volunteers:profile_availability_remove", args=[row.pk]))
    assert r.status_code == 302
    assert list(Availability.objects.values_list("pk", flat=True)) == [theirs.pk]
    # Neither weekday nor date: the message is shown.
    r = client.post(
        reverse("volunteers:profile_availability_add"), {"starts_at": "08:00", "ends_at": "12:00"}
    )
    assert r.status_code == 400 and "weekday" in r.content.decode().lower()


def test_declare_page_big_yes_no_and_result(client, community, personas):
    v = make_volunteer(community, user=personas["volunteer"])
    client.force_login(personas["volunteer"])
    url = reverse("volunteers:declare")
    r = client.get(url)
    assert r.status_code == 200
    assert r.content.decode().count('type="radio"') == 4
    r = client.post(url, {"temperature": ""})
    assert r.status_code == 200 and "Answer yes or no." in r.content.decode()
    assert not Declaration.objects.exists()
    r = client.post(url, {"temperature": "36.4", "symptoms": "no", "contact": "no"}, follow=True)
    assert Declaration.objects.get(volunteer=v).well is True
    r = client.post(url, {"temperature": "37.8", "symptoms": "no", "contact": "no"})
    assert r.status_code == 302
    d = Declaration.objects.get(volunteer=v)
    assert d.well is False and str(d.temperature) == "37.8"
    r = client.get(url)
    assert "not well" in r.content.decode()


def test_declare_without_profile_goes_to_join(client, personas):
    client.force_login(personas["guard"])
    r = client.get(reverse("volunteers:declare"))
    assert r.status_code == 302 and r["Location"] == reverse("volunteers:join_me")
