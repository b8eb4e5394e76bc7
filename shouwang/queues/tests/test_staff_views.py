"""The queue's staff pages: points and days, the counter (with and without JavaScript), phone-in
and paper tickets, the tickets list and the knock list — and who may open each."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from shouwang.accounts.permissions import CAPABILITIES
from shouwang.core import testing as t
from shouwang.queues import services
from shouwang.queues.models import Channel, Notify, QueueEvent, QueuePoint, SaleDay, Ticket
from shouwang.registry.services import households_refresh
from shouwang.residents.sms import MemoryGateway

ROLES = ["admin", "staff", "grid_leader", "volunteer", "guard", "sampler", "merchant", "resident"]
JSON = {"HTTP_ACCEPT": "application/json"}


@pytest.fixture
def en():
    c = Client()
    c.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return c


@pytest.fixture
def admin(en, personas):
    en.force_login(personas["admin"])
    return en


@pytest.fixture
def memory_sms(settings):
    settings.SMS_GATEWAY = "shouwang.residents.sms.MemoryGateway"
    settings.PUBLIC_URL = "https://sw.example"
    MemoryGateway.outbox.clear()
    yield MemoryGateway.outbox
    MemoryGateway.outbox.clear()


def make_day(actor, *, point=None, tickets=50, **kw) -> SaleDay:
    # A day's date is its sale's local date: a day in the past has its times in the past too.
    now = timezone.now() + (kw.get("date", timezone.localdate()) - timezone.localdate())
    point = point or services.point_save(actor=actor, name="松林超市", location="3号楼前")
    fields = {
        "date": timezone.localdate(),
        "take_opens_at": now - dt.timedelta(hours=1),
        "take_closes_at": now + dt.timedelta(hours=3),
        "sale_starts_at": now - dt.timedelta(minutes=30),
        "sale_ends_at": now + dt.timedelta(hours=3),
        "tickets_total": tickets,
        **kw,
    }
    return services.day_create(actor=actor, point=point, **fields)


def take(day, household, notify=Notify.PAGE, **kw) -> Ticket:
    return services.ticket_take(
        day=day, household=household, channel=Channel.STAFF, notify=notify, **kw
    ).ticket


@pytest.fixture
def day(personas, ledger):
    return make_day(personas["admin"])


@pytest.fixture
def other_day(personas):
    return make_day(personas["outsider"])


def fresh(day) -> SaleDay:
    return SaleDay.objects.get(pk=day.pk)


def msgs(resp) -> list[str]:
    return [str(m) for m in resp.context["messages"]]


def act(client, day, action, *, version=None, ticket=None, as_json=False, follow=False):
    data = {"version": fresh(day).version if version is None else version}
    if ticket is not None:
        data["ticket"] = ticket.pk
    url = reverse("queues:console_action", args=[day.pk, action])
    return client.post(url, data, follow=follow, **(JSON if as_json else {}))


# --- who may open what ----------------------------------------------------------------------


def _pages(day, ticket, point):
    return [
        ("queue.call", reverse("queues:index")),
        ("queue.manage", reverse("queues:point_new")),
        ("queue.manage", reverse("queues:point_edit", args=[point.pk])),
        ("queue.manage", reverse("queues:day_new")),
        ("queue.manage", reverse("queues:day_edit", args=[day.pk])),
        ("queue.call", reverse("queues:day", args=[day.pk])),
        ("queue.call", reverse("queues:console", args=[day.pk])),
        ("queue.issue", reverse("queues:issue", args=[day.pk])),
        ("queue.issue", reverse("queues:tickets", args=[day.pk])),
        ("queue.issue", reverse("queues:ticket_print", args=[ticket.pk])),
        ("queue.knock", reverse("queues:knock", args=[day.pk])),
    ]


def test_every_page_renders_for_allowed_roles_and_is_refused_to_others(en, personas, ledger, day):
    ticket = take(day, ledger["h1"])  # grid A: the grid leader's grid
    for role in ROLES:
        en.force_login(personas[role])
        for capability, url in _pages(day, ticket, day.point):
            resp = en.get(url)
            expected = 200 if role in CAPABILITIES[capability] else 403
            assert resp.status_code == expected, (role, url, resp.status_code)
            if expected == 403:
                assert "Not allowed" in resp.content.decode()


def test_signed_out_is_sent_to_sign_in(en, day):
    resp = en.get(reverse("queues:console", args=[day.pk]))
    assert resp.status_code == 302 and "login" in resp["Location"]


@pytest.mark.parametrize(
    "name,capability,role",
    [
        ("queues:day_close", "queue.manage", "volunteer"),
        ("queues:day_draw", "queue.manage", "grid_leader"),
        ("queues:ticket_cancel", "queue.issue", "volunteer"),
        ("queues:ticket_knocked", "queue.knock", "volunteer"),
    ],
)
def test_post_actions_are_refused_without_the_capability(
    en, personas, ledger, day, name, capability, role
):
    assert role not in CAPABILITIES[capability]
    ticket = take(day, ledger["h1"])
    pk = ticket.pk if "ticket" in name else day.pk
    en.force_login(personas[role])
    assert en.post(reverse(name, args=[pk])).status_code == 403
    en.force_login(personas["admin"])
    assert en.get(reverse(name, args=[pk])).status_code == 405
    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.WAITING and ticket.knocked_at is None
    assert fresh(day).closed_at is None


def test_counter_actions_are_refused_without_queue_call(en, personas, ledger, day):
    take(day, ledger["h1"])
    en.force_login(personas["guard"])
    assert act(en, day, "next").status_code == 403
    assert not Ticket.objects.filter(day=day, status=Ticket.Status.CALLED).exists()


def test_another_communitys_day_and_ticket_are_not_found(admin, ledger, other_day):
    other_ticket = take(other_day, ledger["ho"])
    for url in [
        reverse("queues:day", args=[other_day.pk]),
        reverse("queues:console", args=[other_day.pk]),
        reverse("queues:issue", args=[other_day.pk]),
        reverse("queues:tickets", args=[other_day.pk]),
        reverse("queues:knock", args=[other_day.pk]),
        reverse("queues:day_edit", args=[other_day.pk]),
        reverse("queues:point_edit", args=[other_day.point_id]),
        reverse("queues:ticket_print", args=[other_ticket.pk]),
    ]:
        assert admin.get(url).status_code == 404, url
    assert act(admin, other_day, "next").status_code == 404
    assert admin.post(reverse("queues:ticket_cancel", args=[other_ticket.pk])).status_code == 404
    assert admin.post(reverse("queues:day_close", args=[other_day.pk])).status_code == 404
    other_ticket.refresh_from_db()
    assert other_ticket.status == Ticket.Status.WAITING
    assert fresh(other_day).closed_at is None


def test_grid_leader_prints_only_their_grids_tickets(en, personas, ledger, day):
    mine = take(day, ledger["h1"])
    theirs = take(day, ledger["h3"])  # grid B
    en.force_login(personas["grid_leader"])
    assert en.get(reverse("queues:ticket_print", args=[mine.pk])).status_code == 200
    assert en.get(reverse("queues:ticket_print", args=[theirs.pk])).status_code == 404
    assert en.post(reverse("queues:ticket_cancel", args=[theirs.pk])).status_code == 404
    theirs.refresh_from_db()
    assert theirs.status == Ticket.Status.WAITING


# --- the overview, points and days ----------------------------------------------------------


def test_index_lists_todays_day_first_and_the_points(admin, personas, day, other_day):
    past = make_day(
        personas["admin"], point=day.point, date=timezone.localdate() - dt.timedelta(days=3)
    )
    resp = admin.get(reverse("queues:index"))
    assert [d.pk for d in resp.context["upcoming"]] == [day.pk]
    assert [d.pk for d in resp.context["past"]] == [past.pk]
    assert [p.pk for p in resp.context["points"]] == [day.point_id]
    html = resp.content.decode()
    assert "松林超市" in html and "New sale day" in html
    assert reverse("queues:console", args=[day.pk]) in html


def test_volunteer_sees_no_manage_buttons(en, personas, day):
    en.force_login(personas["volunteer"])
    html = en.get(reverse("queues:index")).content.decode()
    assert "New point" not in html and reverse("queues:point_edit", args=[day.point_id]) not in html


def test_point_create_with_errors_then_edit(admin, community, other_community, ledger):
    b1 = ledger["h1"].building
    other_building = ledger["ho"].building
    url = reverse("queues:point_new")
    resp = admin.post(url, {"name": "", "kind": "stall"})
    assert resp.status_code == 200
    assert resp.context["form"].errors["name"]
    # A building of another community is not even a choice.
    resp = admin.post(url, {"name": "松林超市", "kind": "stall", "buildings": [other_building.pk]})
    assert resp.status_code == 200 and resp.context["form"].errors["buildings"]
    assert not QueuePoint.objects.exists()
    resp = admin.post(
        url,
        {
            "name": "松林超市",
            "kind": "stall",
            "location": "3号楼前",
            "buildings": [b1.pk],
            "active": "on",
        },
    )
    assert resp.status_code == 302
    p = QueuePoint.objects.get()
    assert p.community_id == community.pk and p.active
    assert list(p.buildings.all()) == [b1]
    resp = admin.post(
        reverse("queues:point_edit", args=[p.pk]),
        {"name": "松林超市二号", "kind": "shop", "location": ""},
        follow=True,
    )
    p.refresh_from_db()
    assert p.name == "松林超市二号" and p.kind == "shop" and not p.active
    assert p.buildings.count() == 0
    assert any("is saved" in m for m in msgs(resp))


def _day_post(point=None, **kw):
    now = timezone.localtime() + dt.timedelta(days=1)
    start = now.replace(hour=9, minute=0, second=0, microsecond=0)
    data = {
        "date": start.date().isoformat(),
        "title": "蔬菜包",
        "take_opens_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
        "take_closes_at": (start + dt.timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M"),
        "sale_starts_at": start.strftime("%Y-%m-%dT%H:%M"),
        "sale_ends_at": (start + dt.timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M"),
        "tickets_total": "120",
        "per_household": "1",
        "come_when": "10",
        "mode": "first_come",
        "draw_at": "",
        "skip_policy": "requeue",
        "grace_seconds": "180",
        "expected_service_seconds": "60",
    }
    if point is not None:
        data["point"] = point.pk
    data.update(kw)
    return data


def test_new_day_form_has_sensible_defaults(admin, personas):
    p = services.point_save(actor=personas["admin"], name="松林超市")
    resp = admin.get(reverse("queues:day_new") + f"?point={p.pk}")
    assert resp.status_code == 200
    form = resp.context["form"]
    assert form["point"].value() == p.pk
    start = form["sale_starts_at"].value()  # shown in local time
    assert (start.hour, start.minute) == (9, 0)
    assert form["sale_ends_at"].value() - start == dt.timedelta(hours=2)
    assert form["take_closes_at"].value() == form["sale_ends_at"].value()
    assert form["come_when"].value() == 10 and form["grace_seconds"].value() == 180
    assert 'type="datetime-local"' in resp.content.decode()


def test_new_day_without_a_point_sends_to_the_point_form(admin):
    resp = admin.get(reverse("queues:day_new"))
    assert resp.status_code == 302 and resp["Location"] == reverse("queues:point_new")


def test_day_create_shows_service_errors_on_the_fields(admin, personas):
    p = services.point_save(actor=personas["admin"], name="松林超市")
    url = reverse("queues:day_new")
    data = _day_post(p)
    bad = dict(data, sale_ends_at=data["sale_starts_at"])
    resp = admin.post(url, bad)
    assert resp.status_code == 200
    assert "The sale must end after it starts." in resp.context["form"].errors["sale_ends_at"]
    assert "The sale must end after it starts." in resp.content.decode()
    resp = admin.post(url, dict(data, mode="draw"))
    assert resp.context["form"].errors["draw_at"]
    assert not SaleDay.objects.exists()
    resp = admin.post(url, data)
    d = SaleDay.objects.get()
    assert resp.status_code == 302 and resp["Location"] == reverse("queues:day", args=[d.pk])
    assert d.tickets_total == 120 and d.title == "蔬菜包" and d.point_id == p.pk
    assert timezone.localtime(d.sale_starts_at).hour == 9


def test_day_edit_keeps_issued_tickets_and_locks_the_mode(admin, ledger, day):
    take(day, ledger["h1"])
    take(day, ledger["h2"])
    url = reverse("queues:day_edit", args=[day.pk])
    resp = admin.get(url)
    assert resp.context["form"].fields["mode"].disabled
    local = {
        k: timezone.localtime(getattr(day, k)).strftime("%Y-%m-%dT%H:%M")
        for k in ("take_opens_at", "take_closes_at", "sale_starts_at", "sale_ends_at")
    }
    data = _day_post(**local, date=day.date.isoformat(), tickets_total="1", mode="draw")
    resp = admin.post(url, data)
    assert resp.status_code == 200
    assert "already been handed out" in " ".join(resp.context["form"].errors["tickets_total"])
    resp = admin.post(url, dict(data, tickets_total="80"))
    assert resp.status_code == 302
    d = fresh(day)
    assert d.tickets_total == 80 and d.mode == SaleDay.Mode.FIRST_COME


def test_day_page_shows_figures_links_and_close(admin, ledger, day):
    take(day, ledger["h1"])
    take(day, ledger["h2"])
    services.call_next(day=day)
    resp = admin.get(reverse("queues:day", args=[day.pk]))
    html = resp.content.decode()
    assert resp.context["state"]["serving"] == [1] and resp.context["state"]["waiting"] == 1
    for name in ("console", "issue", "tickets", "goods", "knock", "report"):
        assert reverse(f"queues:{name}", args=[day.pk]) in html, name
    for name in ("public", "board", "poster"):
        assert reverse(f"queues:{name}", args=[day.public_key]) in html, name
    assert "Close the day" in html
    resp = admin.post(reverse("queues:day_close", args=[day.pk]), follow=True)
    assert fresh(day).closed_at is not None
    assert any("closed" in m for m in msgs(resp))
    # Waiting and called numbers alike count as not served.
    assert Ticket.objects.filter(day=day, status=Ticket.Status.NO_SHOW).count() == 2


def test_draw_panel_hash_before_and_seed_after(admin, personas, ledger):
    now = timezone.now()
    d = make_day(personas["admin"], mode="draw", draw_at=now + dt.timedelta(hours=1), tickets=1)
    take(d, ledger["h1"])  # registrations
    services.ticket_take(day=d, household=ledger["h2"], channel=Channel.STAFF)
    url = reverse("queues:day", args=[d.pk])
    html = admin.get(url).content.decode()
    assert d.draw_seed_hash in html and d.draw_seed not in html
    assert "Run the draw" not in html  # not due yet
    assert fresh(d).registered == 2
    # Not due: refused with a message, nothing drawn.
    resp = admin.post(reverse("queues:day_draw", args=[d.pk]), follow=True)
    assert any("The draw runs at" in m for m in msgs(resp)) and fresh(d).drawn_at is None
    SaleDay.objects.filter(pk=d.pk).update(draw_at=now - dt.timedelta(minutes=1))
    # Once due, the draw runs at the first look at the day's page (as on the public pages);
    # pressing "Run the draw" afterwards changes nothing.
    html = admin.get(url).content.decode()
    assert fresh(d).drawn_at is not None and "Run the draw" not in html
    resp = admin.post(reverse("queues:day_draw", args=[d.pk]), follow=True)
    d = fresh(d)
    assert d.drawn_at is not None and d.issued == 1
    html = resp.content.decode()
    assert d.draw_seed in html and reverse("queues:draw", args=[d.public_key]) in html


# --- the counter ----------------------------------------------------------------------------


@pytest.fixture
def three(ledger, day):
    return [take(day, ledger[k]) for k in ("h1", "h2", "h3")]


def test_console_shows_the_counter_with_masked_places(admin, ledger, day, three):
    services.call_next(day=day)
    resp = admin.get(reverse("queues:console", args=[day.pk]))
    html = resp.content.decode()
    assert [x.number for x in resp.context["called"]] == [1]
    assert "华美小区 1号楼 1单元 101" in html and "王小*" in html
    assert "王小明" not in html  # never a full name
    assert f'name="version" value="{fresh(day).version}"' in html
    assert "Served, call next" in html and "<kbd>K</kbd>" in html
    assert resp.context["state"]["next"] == [2, 3]


def test_call_next_without_javascript_redirects_with_a_message(admin, day, three):
    resp = act(admin, day, "next")
    assert resp.status_code == 302 and resp["Location"] == reverse("queues:console", args=[day.pk])
    resp = admin.get(resp["Location"])
    assert "Number 1 is called." in msgs(resp)
    assert Ticket.objects.get(pk=three[0].pk).status == Ticket.Status.CALLED


def test_served_call_next_with_json_updates_in_place(admin, day, three):
    act(admin, day, "next")
    v = fresh(day).version
    resp = act(admin, day, "serve_next", as_json=True)
    assert resp.status_code == 200
    body = resp.json()
    assert body["ok"] and body["message"] == "Number 2 is called."
    assert body["state"]["version"] == fresh(day).version > v
    assert 'class="q-called-num">2<' in body["state"]["html"]
    statuses = dict(Ticket.objects.filter(day=day).values_list("number", "status"))
    assert statuses == {1: "served", 2: "called", 3: "waiting"}


def test_double_tap_with_the_same_version_calls_one_number(admin, day, three):
    v = fresh(day).version
    first = act(admin, day, "next", version=v, as_json=True)
    assert first.status_code == 200
    after_first = fresh(day).version
    second = act(admin, day, "next", version=v, as_json=True)
    assert second.status_code == 409
    err = second.json()["error"]
    assert err["code"] == "stale" and "someone else pressed first" in err["message"]
    assert fresh(day).version == after_first
    assert list(
        Ticket.objects.filter(day=day, status="called").values_list("number", flat=True)
    ) == [1]
    # Without JavaScript the refusal is a clear message on the refreshed page.
    resp = act(admin, day, "next", version=v, follow=True)
    assert any("Nothing was done" in m for m in msgs(resp))
    assert Ticket.objects.filter(day=day, status="called").count() == 1


def test_skip_is_refused_until_the_grace_time_is_over(admin, day, three):
    act(admin, day, "next")
    first = Ticket.objects.get(pk=three[0].pk)
    html = admin.get(reverse("queues:console", args=[day.pk])).content.decode()
    assert "data-skip-in=" in html  # the button waits, with a countdown
    resp = act(admin, day, "skip", ticket=first, as_json=True)
    assert resp.status_code == 409 and resp.json()["error"]["code"] == "grace"
    resp = act(admin, day, "skip", ticket=first, follow=True)
    assert any("before skipping" in m for m in msgs(resp))
    assert Ticket.objects.get(pk=first.pk).status == Ticket.Status.CALLED
    Ticket.objects.filter(pk=first.pk).update(called_at=timezone.now() - dt.timedelta(minutes=5))
    resp = act(admin, day, "skip", ticket=first, as_json=True)
    assert resp.status_code == 200
    assert resp.json()["message"] == "Number 1 goes to the back of the queue."
    first.refresh_from_db()
    assert first.status == Ticket.Status.WAITING and first.requeued == 1


def test_recall_serve_and_undo(admin, day, three):
    act(admin, day, "next")
    act(admin, day, "next")
    one = three[0]
    resp = act(admin, day, "recall", ticket=one, as_json=True)
    assert resp.json()["message"] == "Number 1 is called again."
    assert Ticket.objects.get(pk=one.pk).call_count == 2
    resp = act(admin, day, "serve", ticket=one, as_json=True)
    assert resp.json()["message"] == "Number 1 is served."
    resp = act(admin, day, "undo", as_json=True)
    assert resp.status_code == 200 and "number 1" in resp.json()["message"]
    assert Ticket.objects.get(pk=one.pk).status == Ticket.Status.CALLED
    assert QueueEvent.objects.filter(day=day, kind=QueueEvent.Kind.UNDO).count() == 1


def test_counter_action_rejects_unknown_actions_and_foreign_tickets(
    admin, personas, ledger, day, three
):
    assert act(admin, day, "explode", as_json=True).status_code == 400
    other = make_day(personas["admin"], point=day.point)
    foreign = take(other, ledger["h1"])
    resp = act(admin, day, "serve", ticket=foreign, as_json=True)
    assert resp.status_code == 404 and resp.json()["error"]["code"] == "not_found"


def test_panel_fragment_is_sent_only_when_something_changed(admin, day, three):
    url = reverse("queues:console", args=[day.pk])
    resp = admin.get(url, {"fragment": "1", "v": "0-0"})
    assert resp.status_code == 200 and 'class="q-panel"' in resp.content.decode()
    assert "<html" not in resp.content.decode()
    stamp = resp.content.decode().split('data-stamp="')[1].split('"')[0]
    assert admin.get(url, {"fragment": "1", "v": stamp}).status_code == 204
    take(day, t.make_household(day.point.community))  # a new number: the panel changes
    assert admin.get(url, {"fragment": "1", "v": stamp}).status_code == 200


# --- phone-in tickets -----------------------------------------------------------------------


def test_issue_finds_households_by_door_and_by_last_four(admin, ledger, day):
    url = reverse("queues:issue", args=[day.pk])
    b = ledger["h1"].building
    resp = admin.get(url, {"building": b.pk, "door": "102"})
    assert [h.pk for h in resp.context["found"]] == [ledger["h2"].pk]
    resp = admin.get(url, {"q": "5678"})  # last four of 王小明's phone
    assert [h.pk for h in resp.context["found"]] == [ledger["h1"].pk]
    html = resp.content.decode()
    assert "王小*" in html and "王小明" not in html
    resp = admin.get(url, {"q": "王外人"})  # another community
    assert resp.context["found"] == []


def test_grid_leader_finds_only_their_grid(en, personas, ledger, day):
    en.force_login(personas["grid_leader"])
    url = reverse("queues:issue", args=[day.pk])
    resp = en.get(url, {"q": "赵五"})  # grid B
    assert resp.context["found"] == []
    assert en.get(url, {"household": ledger["h3"].pk}).status_code == 404


def test_phone_in_ticket_with_a_text_message(admin, ledger, day, memory_sms):
    h = ledger["h2"]
    url = reverse("queues:issue", args=[day.pk])
    resp = admin.post(url, {"household": h.pk, "notify": "sms", "sms_phone": "12345"})
    assert resp.status_code == 200
    assert resp.context["form"].errors["sms_phone"]
    assert not Ticket.objects.filter(day=day).exists()
    resp = admin.post(url, {"household": h.pk, "notify": "sms", "sms_phone": "139 0000 1234"})
    tk = Ticket.objects.get(day=day, household=h)
    assert resp.status_code == 302
    assert resp["Location"] == reverse("queues:ticket_print", args=[tk.pk]) + "?auto=1"
    assert tk.channel == Channel.STAFF and tk.notify == Notify.SMS
    assert tk.sms_phone_masked == "139****1234" and tk.taken_by.username == "admin"


def test_phone_in_text_message_to_the_households_own_phone(admin, ledger, day):
    h = ledger["h1"]
    households_refresh(household_ids=[h.pk])
    resp = admin.get(reverse("queues:issue", args=[day.pk]), {"household": h.pk})
    assert "139****5678" in resp.content.decode()
    admin.post(reverse("queues:issue", args=[day.pk]), {"household": h.pk, "notify": "sms"})
    assert Ticket.objects.get(day=day, household=h).sms_phone_masked == "139****5678"


def test_phone_in_knock_then_duplicate_offers_to_print_again(admin, ledger, day):
    h = ledger["h3"]
    url = reverse("queues:issue", args=[day.pk])
    admin.post(url, {"household": h.pk, "notify": "knock"})
    tk = Ticket.objects.get(day=day, household=h)
    assert tk.notify == Notify.KNOCK and tk.number == 1
    resp = admin.post(url, {"household": h.pk, "notify": "page"}, follow=True)
    assert Ticket.objects.filter(day=day, household=h).count() == 1
    assert any("already has number 1" in m for m in msgs(resp))
    html = resp.content.decode()
    assert "Print the ticket again" in html
    assert reverse("queues:ticket_print", args=[tk.pk]) in html


def test_phone_in_before_the_draw_registers(admin, personas, ledger):
    d = make_day(personas["admin"], mode="draw", draw_at=timezone.now() + dt.timedelta(hours=1))
    url = reverse("queues:issue", args=[d.pk])
    resp = admin.get(url, {"household": ledger["h1"].pk})
    assert "Register for the draw" in resp.content.decode()
    resp = admin.post(url, {"household": ledger["h1"].pk, "notify": "knock"}, follow=True)
    assert not Ticket.objects.filter(day=d).exists()
    reg = d.registrations.get()
    assert any(f"code R{reg.code}" in m for m in msgs(resp))
    html = resp.content.decode()
    assert f"R{reg.code}" in html and "<svg" in html
    assert reverse("queues:ticket", args=[reg.follow_key]) in html


def test_phone_in_refused_outside_the_window_shows_why(admin, personas, ledger):
    d = make_day(personas["admin"])
    SaleDay.objects.filter(pk=d.pk).update(take_opens_at=timezone.now() + dt.timedelta(hours=1))
    resp = admin.post(
        reverse("queues:issue", args=[d.pk]), {"household": ledger["h1"].pk, "notify": "page"}
    )
    assert resp.status_code == 200
    assert "Tickets are handed out from" in " ".join(resp.context["form"].non_field_errors())


# --- paper tickets, the list, the knock list ------------------------------------------------


def test_print_page_has_the_number_qr_and_stub(admin, ledger, day, settings):
    settings.PUBLIC_URL = "https://sw.example"
    take(day, ledger["h2"])
    tk = take(day, ledger["h1"])
    resp = admin.get(reverse("queues:ticket_print", args=[tk.pk]) + "?auto=1")
    html = resp.content.decode()
    assert 'class="q-t-number">2<' in html
    assert "<svg" in html
    assert "https://sw.example" + reverse("queues:ticket", args=[tk.follow_key]) in html
    assert "3号楼前" in html and "Come when 10 numbers are ahead of you." in html
    assert "1单元 101" in html and "王小*" in html and "王小明" not in html
    assert "window.print()" in html


def test_tickets_list_is_scoped_for_grid_leaders(en, personas, ledger, day):
    a = take(day, ledger["h1"])
    take(day, ledger["h3"])  # grid B
    en.force_login(personas["grid_leader"])
    resp = en.get(reverse("queues:tickets", args=[day.pk]))
    assert [x.pk for x in resp.context["rows"]] == [a.pk]
    assert resp.context["total"] == 1
    en.force_login(personas["staff"])
    resp = en.get(reverse("queues:tickets", args=[day.pk]))
    assert [x.number for x in resp.context["rows"]] == [1, 2]


def test_tickets_filter_and_cancel(admin, ledger, day, three):
    services.call_next(day=day)
    resp = admin.get(reverse("queues:tickets", args=[day.pk]), {"status": "waiting"})
    assert [x.number for x in resp.context["rows"]] == [2, 3]
    resp = admin.post(reverse("queues:ticket_cancel", args=[three[1].pk]), follow=True)
    assert Ticket.objects.get(pk=three[1].pk).status == Ticket.Status.CANCELLED
    assert "Number 2 is given back." in msgs(resp)
    # A called number cannot be given back: the service says why.
    resp = admin.post(reverse("queues:ticket_cancel", args=[three[0].pk]), follow=True)
    assert any("has not been called" in m for m in msgs(resp))
    assert Ticket.objects.get(pk=three[0].pk).status == Ticket.Status.CALLED


def test_knock_list_shows_near_tickets_not_far_ones(en, personas, community, grid_a, day):
    SaleDay.objects.filter(pk=day.pk).update(come_when=1)  # the list reaches 2 ahead
    day = fresh(day)
    b = t.make_building(community, "华美小区", "5号楼", grid=grid_a)
    hs = [t.make_household(community, building=b, door=str(500 + i)) for i in range(4)]
    near = take(day, hs[0], Notify.KNOCK)
    take(day, hs[1])
    take(day, hs[2])
    far = take(day, hs[3], Notify.KNOCK)
    services.bump(day)  # the snapshot the list reads
    en.force_login(personas["grid_leader"])
    resp = en.get(reverse("queues:knock", args=[day.pk]))
    assert [r["ticket"].pk for r in resp.context["rows"]] == [near.pk]
    html = resp.content.decode()
    assert "5号楼 1单元 500" in html and 'http-equiv="refresh"' in html
    assert far.number not in [r["ticket"].number for r in resp.context["rows"]]
    resp = en.post(reverse("queues:ticket_knocked", args=[near.pk]), follow=True)
    near.refresh_from_db()
    assert near.knocked_at is not None and near.knocked_by == personas["grid_leader"]
    assert resp.redirect_chain[-1][0] == reverse("queues:knock", args=[day.pk])


def test_knock_list_for_a_grid_leader_leaves_out_other_grids(en, personas, ledger, day):
    take(day, ledger["h3"], Notify.KNOCK)  # grid B
    mine = take(day, ledger["h1"], Notify.KNOCK)
    services.bump(day)
    en.force_login(personas["grid_leader"])
    rows = en.get(reverse("queues:knock", args=[day.pk])).context["rows"]
    assert [r["ticket"].pk for r in rows] == [mine.pk]
    en.force_login(personas["staff"])
    assert len(en.get(reverse("queues:knock", args=[day.pk])).context["rows"]) == 2


def test_lists_do_not_query_per_ticket(admin, community, grid_a, day):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    b = t.make_building(community, "华美小区", "7号楼", grid=grid_a)

    def queries(url):
        with CaptureQueriesContext(connection) as ctx:
            assert admin.get(url).status_code == 200
        return len(ctx)

    def add(n):
        for i in range(n):
            h = t.make_household(community, building=b)
            t.make_resident(h, name=f"测试{i}", phone="")
            take(day, h, Notify.KNOCK)
        services.call_next(day=day)
        services.call_next(day=day)

    add(3)  # two at the counter, one waiting
    urls = [
        reverse("queues:tickets", args=[day.pk]),
        reverse("queues:console", args=[day.pk]),
        reverse("queues:knock", args=[day.pk]),
        reverse("queues:index"),
    ]
    queries(urls[0])  # the session and the user, loaded once
    few = [queries(u) for u in urls]
    add(8)
    assert [queries(u) for u in urls] == few
