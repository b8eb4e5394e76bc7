"""Printed pass cards: who is on a print run (building, grid, household, chosen people) inside
the user's scope; what the cards show (masked name, grouped token, directory and grid leader on
the back); passes and links issued once and reused; printing recorded; queries bounded."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from shouwang.core import testing as t
from shouwang.core.masking import mask_name_initial
from shouwang.core.models import AuditEvent
from shouwang.registry.models import Presence
from shouwang.residents import cards as card_data
from shouwang.residents import services, tokens
from shouwang.residents.models import DirectoryEntry, HouseholdLink, Pass

pytestmark = pytest.mark.django_db

URL = reverse("residents:cards")


@pytest.fixture(autouse=True)
def _english_pages(client):
    """The assertions read the English messages: ask for English as a browser would."""
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"


@pytest.fixture
def setup(personas, ledger, community, other_community, grid_a):
    leader = personas["grid_leader"]
    leader.display_name = "张网格"
    leader.work_phone = "021-5555 0303"
    leader.save(update_fields=["display_name", "work_phone"])
    grid_a.leader = leader
    grid_a.save(update_fields=["leader"])
    d = DirectoryEntry.objects
    d.create(
        community=community,
        kind="pharmacy",
        name="老百姓大药房",
        phone="021-5555 0202",
        distance_m=300,
        sort=0,
    )
    d.create(
        community=community, kind="committee", name="华美社区居委会", phone="021-5555 0101", sort=5
    )
    d.create(
        community=community,
        kind="supermarket",
        name="不上卡超市",
        phone="021-5555 0909",
        on_card=False,
    )
    d.create(community=other_community, kind="clinic", name="别处诊所", phone="021-6666 0000")
    return {**ledger, "ba": ledger["h1"].building, "bb": ledger["h3"].building}


def _cards(response) -> list[int]:
    html = response.content.decode()
    return [int(x) for x in re.findall(r'class="pcard front" data-resident="(\d+)"', html)]


def _active_tokens(residents) -> dict[int, str]:
    return {
        p.resident_id: tokens.token_for(p.code)
        for p in Pass.objects.filter(resident__in=residents, status="active")
    }


# --- masking ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name, masked",
    [
        ("王小明", "王小*"),
        ("李四", "李*"),
        ("欧阳娜娜", "欧阳娜*"),
        ("欧阳娜", "欧阳*"),
        ("诸葛孔明", "诸葛孔*"),
        ("司马", "司*"),
        ("王", "王*"),
        (" 王 小明 ", "王小*"),
        ("John Smith", "John S."),
        ("Mary Ann Lee", "Mary A. L."),
        ("John", "J."),
        ("买买提·艾力", "买买提·艾*"),
        ("", ""),
    ],
)
def test_mask_name_initial(name, masked):
    assert mask_name_initial(name) == masked


# --- choosing people --------------------------------------------------------------------------


def test_without_a_selection_a_form_offers_buildings_and_grids(client, setup, personas):
    client.force_login(personas["admin"])
    r = client.get(URL)
    assert r.status_code == 200
    html = r.content.decode()
    assert 'name="building"' in html and 'name="grid"' in html
    assert f'value="{setup["ba"].pk}"' in html and f'value="{setup["bb"].pk}"' in html
    assert "别处小区" not in html
    assert not Pass.objects.exists(), "the form alone issues nothing"


def test_grid_leader_is_offered_only_their_grid(client, setup, personas, grid_a, grid_b):
    client.force_login(personas["grid_leader"])
    html = client.get(URL).content.decode()
    assert grid_a.name in html and grid_b.name not in html
    assert "新虹公寓" not in html  # building bb is in grid B


def test_building_prints_everyone_living_there(client, setup, personas):
    moved = t.make_resident(
        setup["h2"], name="搬走了", relation="other", phone="", presence=Presence.MOVED_OUT
    )
    client.force_login(personas["staff"])
    r = client.get(URL, {"building": setup["ba"].pk})
    assert r.status_code == 200
    assert sorted(_cards(r)) == sorted([setup["r1"].pk, setup["r1b"].pk, setup["r2"].pk])
    assert moved.pk not in _cards(r)
    assert r["Cache-Control"] == "no-store"


def test_grid_prints_the_grids_buildings(client, setup, personas, grid_b):
    client.force_login(personas["admin"])
    r = client.get(URL, {"grid": grid_b.pk})
    assert _cards(r) == [setup["r3"].pk]


def test_household_prints_its_members(client, setup, personas):
    client.force_login(personas["admin"])
    r = client.get(URL, {"household": setup["h1"].pk})
    assert sorted(_cards(r)) == sorted([setup["r1"].pk, setup["r1b"].pk])


def test_selected_people(client, setup, personas):
    client.force_login(personas["admin"])
    r = client.get(URL, {"residents": f"{setup['r3'].pk}, {setup['r1'].pk}"})
    assert sorted(_cards(r)) == sorted([setup["r1"].pk, setup["r3"].pk])


def test_selected_people_as_ticked_boxes(client, setup, personas):
    client.force_login(personas["admin"])
    r = client.get(URL, {"residents": [setup["r1"].pk, setup["r2"].pk]})
    assert sorted(_cards(r)) == sorted([setup["r1"].pk, setup["r2"].pk])


def test_selected_people_who_moved_out_get_no_card(client, setup, personas):
    r2 = setup["r2"]
    r2.presence = Presence.MOVED_OUT
    r2.save(update_fields=["presence"])
    client.force_login(personas["admin"])
    r = client.get(URL, {"residents": f"{setup['r1'].pk},{r2.pk}"})
    assert _cards(r) == [setup["r1"].pk]
    assert r.context["selection"].skipped == 1


@pytest.mark.parametrize(
    "params",
    [
        lambda s, g: {"building": s["ho"].building_id},
        lambda s, g: {"household": s["ho"].pk},
        lambda s, g: {"residents": str(s["ro"].pk)},
        lambda s, g: {"residents": f"{s['r1'].pk},{s['ro'].pk}"},
        lambda s, g: {"residents": "1,abc"},
        lambda s, g: {"residents": "-5"},
        lambda s, g: {"building": "x"},
        lambda s, g: {"grid": str(2**63)},
        lambda s, g: {"grid": g.pk},
    ],
)
def test_outside_the_community_is_not_found(client, setup, personas, other_community, params):
    other_grid = t.make_grid(other_community)
    client.force_login(personas["admin"])
    r = client.get(URL, params(setup, other_grid))
    assert r.status_code == 404
    assert not Pass.objects.exists() and not HouseholdLink.objects.exists()


@pytest.mark.parametrize(
    "params",
    [
        lambda s, g: {"building": s["bb"].pk},
        lambda s, g: {"grid": g.pk},
        lambda s, g: {"household": s["h3"].pk},
        lambda s, g: {"residents": f"{s['r1'].pk},{s['r3'].pk}"},
    ],
)
def test_grid_leader_outside_their_grid_is_not_found(client, setup, personas, grid_b, params):
    client.force_login(personas["grid_leader"])
    r = client.get(URL, params(setup, grid_b))
    assert r.status_code == 404
    assert not Pass.objects.exists()


def test_grid_leader_prints_their_own_grid(client, setup, personas, grid_a):
    client.force_login(personas["grid_leader"])
    r = client.get(URL, {"grid": grid_a.pk})
    assert sorted(_cards(r)) == sorted([setup["r1"].pk, setup["r1b"].pk, setup["r2"].pk])


@pytest.mark.parametrize("persona", ["guard", "volunteer", "resident", "district", "merchant"])
def test_roles_without_the_capability_are_refused(client, setup, personas, persona):
    client.force_login(personas[persona])
    assert client.get(URL, {"building": setup["ba"].pk}).status_code == 403
    assert not Pass.objects.exists()


def test_anonymous_is_sent_to_sign_in(client, setup):
    r = client.get(URL, {"building": setup["ba"].pk})
    assert r.status_code == 302 and "/accounts/login/" in r["Location"]


def test_too_many_selected_people_is_refused(client, setup, personas):
    client.force_login(personas["admin"])
    ids = ",".join(str(i) for i in range(1, card_data.MAX_SELECTED + 2))
    assert client.get(URL, {"residents": ids}).status_code == 400


# --- what the cards show ----------------------------------------------------------------------


def test_front_shows_masked_names_grouped_tokens_and_doors(client, setup, personas):
    client.force_login(personas["admin"])
    r = client.get(URL, {"building": setup["ba"].pk})
    html = r.content.decode()
    for full, masked in (("王小明", "王小*"), ("王大明", "王大*"), ("李四", "李*")):
        assert full not in html, f"the full name {full} is on the page"
        assert masked in html
    toks = _active_tokens([setup["r1"], setup["r1b"], setup["r2"]])
    assert len(toks) == 3
    for token in toks.values():
        grouped = tokens.grouped(token)
        assert re.fullmatch(r"SW[0-9A-Z]{2}(-[0-9A-Z]{4}){3}", grouped)
        assert grouped in html
    assert html.count('class="qr pass-qr"') == 3
    assert "华美社区" in html  # the community's name on each card
    assert "1单元" in html and "101" in html and "102" in html
    assert "13912345678" not in html and "139****5678" not in html, "no phones of residents"


def test_back_shows_the_directory_committee_first_and_the_grid_leader(client, setup, personas):
    client.force_login(personas["admin"])
    html = client.get(URL, {"building": setup["ba"].pk}).content.decode()
    backs = html[html.index('data-side="back"') :]
    assert backs.index("021-5555 0101") < backs.index("021-5555 0202"), "the committee first"
    assert "老百姓大药房" in backs and "300 m" in backs
    assert "张网格" in backs and "021-5555 0303" in backs
    assert "021-5555 0909" not in html, "an entry not marked for the cards"
    assert "021-6666 0000" not in html, "another community's directory"
    assert html.count('class="qr link-qr"') == 3  # one a card; two cards share household h1
    assert "Lost this card? Call the committee: 021-5555 0101" in html


def test_grid_without_leader_prints_no_leader_line(client, setup, personas, grid_b):
    client.force_login(personas["admin"])
    html = client.get(URL, {"grid": grid_b.pk}).content.decode()
    assert 'class="leader"' not in html
    assert "021-5555 0101" in html


def test_backs_mirror_each_row_for_long_edge_duplex():
    cards = list(range(1, 11))  # stand-ins for Card objects
    sheets = card_data.sheets_of(cards)
    assert len(sheets) == 2
    assert sheets[0].fronts == [1, 2, 3, 4, 5, 6, 7, 8]
    assert sheets[0].backs == [2, 1, 4, 3, 6, 5, 8, 7]
    assert sheets[1].fronts == [9, 10, None, None, None, None, None, None]
    assert sheets[1].backs == [10, 9, None, None, None, None, None, None]
    odd = card_data.sheets_of([1, 2, 3])
    assert odd[0].backs[:4] == [2, 1, None, 3], "a lone card in the left column: back on the right"


def test_the_page_lays_out_sheets_of_eight(client, setup, personas, community):
    b = t.make_building(community, "华美小区", "3号楼")
    for i in range(10):
        t.make_resident(
            t.make_household(community, building=b, door=str(301 + i)), name=f"陈{i}号", phone=""
        )
    client.force_login(personas["admin"])
    r = client.get(URL, {"building": b.pk})
    html = r.content.decode()
    assert html.count('data-side="front"') == 2 and html.count('data-side="back"') == 2
    assert html.count('class="pcard front"') == 10 and html.count('class="pcard back"') == 10
    assert html.count('class="pcard blank"') == 12  # 6 empty slots on each side of sheet 2
    assert 'data-count="10"' in html
    assert "window.print()" in html


def test_household_link_uses_public_url(settings, rf):
    settings.PUBLIC_URL = "https://sw.example.org"
    assert services.link_url("abc") == "https://sw.example.org/h/abc/"
    settings.PUBLIC_URL = ""
    request = rf.get("/passes/cards/", HTTP_HOST="testserver")
    assert services.link_url("abc", request) == "http://testserver/h/abc/"


def test_distance_label():
    assert card_data.distance_label(None) == ""
    assert card_data.distance_label(250) == "250 m"
    assert card_data.distance_label(1000) == "1 km"
    assert card_data.distance_label(1250) == "1.2 km"


def test_only_the_entries_that_fit_are_printed(client, setup, personas, community):
    for i in range(card_data.MAX_BACK_ENTRIES + 2):
        DirectoryEntry.objects.create(
            community=community, kind="other", name=f"热线{i}", phone=f"1234{i}", sort=10 + i
        )
    client.force_login(personas["admin"])
    r = client.get(URL, {"household": setup["h2"].pk})
    assert len(r.context["run"].directory) == card_data.MAX_BACK_ENTRIES
    assert r.context["run"].directory[0].committee
    assert "fit on the back" in r.content.decode()


# --- issuing and recording ------------------------------------------------------------------


def test_first_print_issues_passes_and_links_and_a_reprint_reuses_them(client, setup, personas):
    people = [setup["r1"], setup["r1b"], setup["r2"]]
    old = Pass.objects.create(
        community_id=setup["r2"].community_id, resident=setup["r2"], code=tokens.new_code()
    )
    client.force_login(personas["admin"])

    r = client.get(URL, {"building": setup["ba"].pk})
    assert r.status_code == 200
    first = _active_tokens(people)
    assert len(first) == 3
    assert first[setup["r2"].pk] == tokens.token_for(old.code), "an existing pass is kept"
    links = {
        h: HouseholdLink.objects.get(household=setup[h], revoked_at__isnull=True)
        for h in ("h1", "h2")
    }
    assert AuditEvent.objects.filter(action="pass.issue_many").count() == 1
    assert AuditEvent.objects.filter(action="link.issue").count() == 2

    r = client.get(URL, {"building": setup["ba"].pk})
    assert _active_tokens(people) == first, "a reprint shows the same tokens"
    html = r.content.decode()
    for token in first.values():
        assert tokens.grouped(token) in html
    for h, link in links.items():
        assert list(HouseholdLink.objects.filter(household=setup[h])) == [link]
    assert Pass.objects.count() == 3
    assert AuditEvent.objects.filter(action="pass.issue_many").count() == 1
    assert AuditEvent.objects.filter(action="link.issue").count() == 2


def test_printing_is_recorded(client, setup, personas):
    client.force_login(personas["staff"])
    client.get(URL, {"building": setup["ba"].pk})
    passes = list(Pass.objects.filter(status="active"))
    assert len(passes) == 3
    assert all(p.print_count == 1 and p.printed_at is not None for p in passes)
    stamp = {p.pk: p.printed_at for p in passes}

    client.get(URL, {"household": setup["h1"].pk})
    again = {p.resident_id: p for p in Pass.objects.filter(status="active")}
    assert again[setup["r1"].pk].print_count == 2 and again[setup["r1b"].pk].print_count == 2
    assert again[setup["r2"].pk].print_count == 1, "not on the second run"
    assert again[setup["r1"].pk].printed_at >= stamp[again[setup["r1"].pk].pk]

    events = list(AuditEvent.objects.filter(action="cards.print").order_by("id"))
    assert [e.summary.split()[0] for e in events] == ["3", "2"]
    assert all(e.actor_id == personas["staff"].pk for e in events)
    assert all(e.community_id == personas["staff"].community_id for e in events)


def test_an_empty_building_prints_nothing_and_records_nothing(client, personas, community):
    b = t.make_building(community, "华美小区", "空楼")
    client.force_login(personas["admin"])
    r = client.get(URL, {"building": b.pk})
    assert r.status_code == 200 and _cards(r) == []
    assert not AuditEvent.objects.filter(action="cards.print").exists()


def test_queries_are_bounded_for_thirty_people(
    client, setup, personas, community, grid_a, django_assert_max_num_queries
):
    b = t.make_building(community, "华美小区", "5号楼", grid=grid_a)
    for i in range(15):
        h = t.make_household(community, building=b, door=str(501 + i))
        t.make_resident(h, name=f"孙{i}甲", phone="")
        t.make_resident(h, name=f"孙{i}乙", relation="spouse", phone="")
    client.force_login(personas["admin"])
    client.get(URL)  # the session and user are loaded once, as on any page
    # The first print issues 30 passes in one go, and a link per household (15 households).
    with django_assert_max_num_queries(20 + 6 * 15):
        r = client.get(URL, {"building": b.pk})
    assert len(_cards(r)) == 30
    # A reprint: no query per person or per household.
    with django_assert_max_num_queries(14):
        r = client.get(URL, {"building": b.pk})
    assert len(_cards(r)) == 30
    assert Pass.objects.filter(resident__household__building=b, print_count=2).count() == 30
