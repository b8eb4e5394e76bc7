"""The pages without a sign-in: the ticket page, the day's public page, the board, the poster and
the draw record. Numbers only — never a name, a door or a phone — and a draw anyone can re-run."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import shutil
import subprocess
from decimal import Decimal

import pytest
from django.utils import timezone

from shouwang.core import testing as t
from shouwang.queues import services
from shouwang.queues.models import Goods, Registration, SaleDay, Ticket
from shouwang.residents.models import DirectoryEntry

DOOR = "甲702"
HEAD = "欧阳娜娜"
PHONE = "+8613811112222"
PERSONAL = (DOOR, HEAD, "13811112222", "138****2222", "王小明", "李四")


@pytest.fixture
def home(community, ledger):
    """A household whose door and head's name must never appear on a public page."""
    b = ledger["h1"].building
    h = t.make_household(community, building=b, door=DOOR)
    t.make_resident(h, name=HEAD, phone=PHONE)
    return h


def make_day(staff, point, **kw) -> SaleDay:
    now = timezone.now()
    fields = {
        "date": timezone.localdate(),
        "title": "蔬菜包",
        "take_opens_at": now - dt.timedelta(hours=1),
        "take_closes_at": now + dt.timedelta(hours=3),
        "sale_starts_at": now + dt.timedelta(hours=1),
        "sale_ends_at": now + dt.timedelta(hours=4),
        "tickets_total": 50,
        "come_when": 10,
        **kw,
    }
    return services.day_create(actor=staff, point=point, **fields)


@pytest.fixture
def day(staff, point):
    return make_day(staff, point)


@pytest.fixture
def goods(staff, day):
    made = [
        Goods.objects.create(
            community_id=day.community_id,
            day=day,
            name="白菜",
            price=Decimal("2.50"),
            unit="斤",
            photo_hash="a1b2c3d4",
            position=1,
        ),
        Goods.objects.create(
            community_id=day.community_id,
            day=day,
            name="鸡蛋",
            price=Decimal("15.00"),
            unit="盒",
            position=2,
            sold_out_at=timezone.now(),
        ),
    ]
    services.bump(day)
    return made


def fresh(day: SaleDay) -> SaleDay:
    return SaleDay.objects.get(pk=day.pk)


def assert_no_personal_data(html: str) -> None:
    for value in PERSONAL:
        assert value not in html, value


def element(html: str, marker: str) -> str:
    """The opening tag that carries `marker` (e.g. data-if="status=called")."""
    m = re.search(r"<[^>]*" + re.escape(marker) + r"[^>]*>", html)
    assert m, marker
    return m.group(0)


def shown(html: str, marker: str) -> bool:
    return " hidden" not in element(html, marker)


# --- the ticket page ------------------------------------------------------------------------


def test_ticket_page_shows_the_number_and_the_queue_without_personal_data(
    client, ledger, home, day, goods
):
    services.ticket_take(day=day, household=ledger["h2"])
    tk = services.ticket_take(day=day, household=home, notify="sms", sms_phone=PHONE).ticket
    resp = client.get(f"/q/t/{tk.follow_key}/")
    html = resp.content.decode()
    assert resp.status_code == 200
    assert '<p class="q-hero-num">2</p>' in html
    assert "松林超市摊位" in html and "东门广场" in html
    assert "Now serving" in html and "Ahead of you" in html and "an estimate" in html
    assert f'data-stream="/q/stream/{day.public_key}/?n=2"' in html
    assert f'data-state="/q/t/{tk.follow_key}/state"' in html
    assert "Allow sound and vibration" in html and "js/queue-live.js" in html
    # One ahead, far from "come when 10 are ahead"? No: 1 ≤ 10, so come now.
    assert shown(html, 'data-if="come_now status=waiting"')
    assert not shown(html, 'data-if="status=called"')
    # The goods, a thumbnail, the sold-out item greyed.
    assert "白菜" in html and f"/q/photo/{goods[0].pk}/a1b2c3d4.jpg?thumb=1" in html
    assert re.search(r'class="q-good is-out">.*?鸡蛋', html, re.S)
    assert f'href="/q/{day.public_key}/"' in html
    assert_no_personal_data(html)
    assert "no-store" in resp["Cache-Control"]


def test_ticket_page_come_now_only_at_the_threshold(client, ledger, staff, point):
    d = make_day(staff, point, come_when=1)
    hs = [ledger["h1"], ledger["h2"], ledger["h3"]]
    tickets = [services.ticket_take(day=d, household=h).ticket for h in hs]
    third = f"/q/t/{tickets[2].follow_key}/"
    html = client.get(third).content.decode()
    assert not shown(html, 'data-if="come_now status=waiting"')
    assert shown(html, 'data-if="!come_now status=waiting"')
    services.call_next(day=d, actor=staff)
    html = client.get(third).content.decode()
    assert shown(html, 'data-if="come_now status=waiting"')
    assert "Come now" in html
    html = client.get(f"/q/t/{tickets[0].follow_key}/").content.decode()
    assert shown(html, 'data-if="status=called"') and "It's your turn" in html


@pytest.mark.parametrize(
    "end, text",
    [
        ("served", "Served. Thank you!"),
        ("cancelled", "Cancelled: this number was given back."),
    ],
)
def test_ticket_page_after_the_end(client, ledger, staff, day, end, text):
    tk = services.ticket_take(day=day, household=ledger["h1"]).ticket
    if end == "served":
        services.call_next(day=day, actor=staff)
        services.serve(day=day, actor=staff)
    else:
        services.ticket_cancel(ticket=tk)
    html = client.get(f"/q/t/{tk.follow_key}/").content.decode()
    assert text in html
    # Nothing left to follow: the stream is the day's, without the number.
    assert f'data-stream="/q/stream/{day.public_key}/"' in html


def test_ticket_state_is_public_state_for_the_number(
    client, ledger, staff, day, django_assert_max_num_queries
):
    first = services.ticket_take(day=day, household=ledger["h1"]).ticket
    tk = services.ticket_take(day=day, household=ledger["h2"]).ticket
    services.call_next(day=day, actor=staff)
    with django_assert_max_num_queries(2):
        resp = client.get(f"/q/t/{tk.follow_key}/state")
    assert resp.status_code == 200 and resp["Cache-Control"] == "no-store"
    data = resp.json()
    assert data == services.day_state(fresh(day), tk.number)
    assert data["number"] == 2 and data["serving"] == [first.number] and data["ahead"] == 0
    assert data["come_now"] is True and data["status"] == "waiting"
    assert set(data) >= {"v", "next", "issued", "total", "left", "waiting", "eta_min", "goods"}


def test_ticket_page_goods_fragment(client, ledger, day, goods):
    tk = services.ticket_take(day=day, household=ledger["h1"]).ticket
    resp = client.get(f"/q/t/{tk.follow_key}/?fragment=goods")
    html = resp.content.decode()
    assert resp.status_code == 200 and "<html" not in html
    assert "白菜" in html and "Sold out" in html


# --- draw mode on the ticket page -----------------------------------------------------------


def draw_day(staff, point, **kw) -> SaleDay:
    now = timezone.now()
    return make_day(staff, point, mode=SaleDay.Mode.DRAW, draw_at=now + dt.timedelta(hours=1), **kw)


def due(day: SaleDay) -> SaleDay:
    """Registration closed a minute ago (the draw has not run: nobody has looked yet)."""
    SaleDay.objects.filter(pk=day.pk).update(draw_at=timezone.now() - dt.timedelta(minutes=1))
    return fresh(day)


def test_registration_page_before_and_after_the_draw(client, ledger, staff, point, home):
    d = draw_day(staff, point, tickets_total=1)
    regs = [
        services.ticket_take(day=d, household=h).registration
        for h in (ledger["h1"], ledger["h2"], home)
    ]
    html = client.get(f"/q/t/{regs[0].follow_key}/").content.decode()
    assert "R1" in html and "Registered. The draw is at" in html
    assert "data-reload-at=" in html
    assert_no_personal_data(html)
    due(d)
    # The first visitor after draw_at runs the draw.
    pages = {r.code: client.get(f"/q/t/{r.follow_key}/").content.decode() for r in regs}
    d = fresh(d)
    assert d.drawn_at is not None and d.issued == 1
    (winner,) = services.draw_order(d.draw_seed, [r.code for r in regs])[:1]
    for code, html in pages.items():
        if code == winner:
            assert '<p class="q-hero-num">1</p>' in html
        else:
            assert "Not drawn this time." in html
            assert "No tickets are left for this day." in html
        assert_no_personal_data(html)


def test_a_loser_sees_the_first_come_tickets_left(client, ledger, staff, point):
    d = draw_day(staff, point, tickets_total=1)
    regs = [
        services.ticket_take(day=d, household=h).registration for h in (ledger["h1"], ledger["h2"])
    ]
    d = services.draw_run(day=due(d))
    # More stock arrived after the draw: the committee adds four first-come tickets.
    services.day_update(actor=staff, day=d, tickets_total=5)
    (loser,) = [r for r in regs if not Registration.objects.get(pk=r.pk).won]
    html = client.get(f"/q/t/{loser.follow_key}/").content.decode()
    assert "Not drawn this time." in html
    assert "4 tickets are left for whoever asks first" in html


# --- the day's public page ------------------------------------------------------------------


def test_public_page_shows_the_calling_and_the_goods(client, ledger, home, staff, day, goods):
    for h in (ledger["h1"], ledger["h2"], home):
        services.ticket_take(day=day, household=h)
    services.call_next(day=day, actor=staff)
    resp = client.get(f"/q/{day.public_key}/")
    html = resp.content.decode()
    assert resp.status_code == 200 and "no-store" in resp["Cache-Control"]
    assert '<p class="q-now-num" data-k="now" data-flash>1</p>' in html
    assert '<ol class="q-next-list" data-k="next"><li>2</li><li>3</li></ol>' in html
    assert '<b data-k="left">47</b>' in html and '<b data-k="waiting">2</b>' in html
    assert "Follow a number" in html and "白菜" in html and "Sold out" in html
    assert f'data-stream="/q/stream/{day.public_key}/"' in html
    assert_no_personal_data(html)


def test_public_page_follows_a_number(client, ledger, home, staff, day):
    for h in (ledger["h1"], ledger["h2"], home):
        services.ticket_take(day=day, household=h)
    html = client.get(f"/q/{day.public_key}/?n=3").content.decode()
    assert "Number <b>3</b>" in html
    assert '<b data-k="ahead">2</b>' in html
    assert f'data-stream="/q/stream/{day.public_key}/?n=3"' in html
    assert f'data-state="/q/{day.public_key}/state?n=3"' in html
    assert shown(html, 'data-if="come_now status=waiting"')
    # A number not handed out.
    html = client.get(f"/q/{day.public_key}/?n=40").content.decode()
    assert shown(html, 'data-if="status=unknown"')
    # Not a number.
    html = client.get(f"/q/{day.public_key}/?n=abc").content.decode()
    assert "Type the number on your ticket" in html


def test_public_state_json(client, ledger, staff, day):
    services.ticket_take(day=day, household=ledger["h1"])
    services.ticket_take(day=day, household=ledger["h2"])
    resp = client.get(f"/q/{day.public_key}/state?n=2")
    assert resp["Cache-Control"] == "no-store"
    data = resp.json()
    assert data == services.day_state(fresh(day), 2)
    assert data["ahead"] == 1 and data["left"] == 48
    plain = client.get(f"/q/{day.public_key}/state").json()
    assert "number" not in plain and plain["issued"] == 2


def test_public_page_runs_a_due_draw_and_shows_the_hash_before(client, ledger, staff, point):
    d = draw_day(staff, point)
    services.ticket_take(day=d, household=ledger["h1"])
    html = client.get(f"/q/{d.public_key}/").content.decode()
    assert d.draw_seed_hash in html and d.draw_seed not in html
    assert "1 household registered so far." in html
    assert "its hash is published so nobody can choose it" in html
    due(d)
    html = client.get(f"/q/{d.public_key}/").content.decode()
    assert fresh(d).drawn_at is not None
    assert "The draw ran at" in html and f"/q/{d.public_key}/draw/" in html


# --- board and poster -----------------------------------------------------------------------


def test_board(client, ledger, home, staff, day, goods):
    for h in (ledger["h1"], home):
        services.ticket_take(day=day, household=h)
    services.call_next(day=day, actor=staff)
    resp = client.get(f"/q/{day.public_key}/board/")
    html = resp.content.decode()
    assert resp.status_code == 200
    assert '<p class="b-now-num" data-k="now" data-flash>1</p>' in html
    assert "<svg" in html and "Scan to follow the queue" in html
    assert 'class="topbar"' not in html and 'lang="en"' in html
    assert "白菜" in html and 'class="b-out"' in html
    assert "data-clock" in html
    assert_no_personal_data(html)
    frag = client.get(f"/q/{day.public_key}/board/?fragment=goods").content.decode()
    assert frag.lstrip().startswith("<li") and "鸡蛋" in frag


def test_poster(client, community, day, settings):
    settings.PUBLIC_URL = "https://sw.example.cn"
    DirectoryEntry.objects.create(
        community=community, kind="pharmacy", name="老百姓大药房", phone="029-11111111"
    )
    DirectoryEntry.objects.create(
        community=community, kind="committee", name="华美社区居委会", phone="029-88886666"
    )
    html = client.get(f"/q/{day.public_key}/poster/").content.decode()
    assert "<svg" in html and f"https://sw.example.cn/q/{day.public_key}/" in html
    assert "Come when 10 are ahead of you" in html
    assert "Stay at home — follow the calling on your phone" in html
    assert "029-88886666" in html and "029-11111111" not in html
    assert "@page" not in html and "css/queue.css" in html


# --- the draw record ------------------------------------------------------------------------


def test_draw_record_before_the_draw_shows_the_hash_and_codes_only(
    client, ledger, home, staff, point
):
    d = draw_day(staff, point)
    for h in (ledger["h1"], home):
        services.ticket_take(day=d, household=h)
    html = client.get(f"/q/{d.public_key}/draw/").content.decode()
    assert d.draw_seed_hash in html and d.draw_seed not in html
    assert "R1 R2" in html
    assert_no_personal_data(html)
    txt = client.get(f"/q/{d.public_key}/draw.txt").content.decode()
    assert d.draw_seed not in txt and f"seed sha256: {d.draw_seed_hash}" in txt
    assert re.findall(r"^\d+$", txt, re.M) == ["1", "2"]


def _run_drawn(staff, point, ledger, home, community, n_extra=9, tickets=4) -> SaleDay:
    d = draw_day(staff, point, tickets_total=tickets)
    households = [ledger["h1"], ledger["h2"], home]
    b = ledger["h1"].building
    households += [t.make_household(community, building=b) for _ in range(n_extra)]
    for h in households:
        services.ticket_take(day=d, household=h)
    return services.draw_run(day=due(d))


def test_draw_record_after_the_draw(client, ledger, home, staff, point, community):
    d = _run_drawn(staff, point, ledger, home, community)
    html = client.get(f"/q/{d.public_key}/draw/").content.decode()
    assert d.draw_seed in html and d.draw_seed_hash in html
    order = services.draw_order(d.draw_seed, range(1, 13))
    # The table lists the codes in the drawn order, the first four with numbers 1-4.
    listed = [int(c) for c in re.findall(r"<td><b>R(\d+)</b></td>", html)]
    assert listed == order
    for place, code in enumerate(order[:4], start=1):
        number = Ticket.objects.get(registration__day=d, registration__code=code).number
        assert number == place
    assert html.count("not drawn") == 8
    assert_no_personal_data(html)


def test_draw_txt_reproduces_the_draw(client, ledger, home, staff, point, community, tmp_path):
    d = _run_drawn(staff, point, ledger, home, community)
    resp = client.get(f"/q/{d.public_key}/draw.txt")
    assert resp["Content-Type"].startswith("text/plain")
    txt = resp.content.decode()
    assert_no_personal_data(txt)
    seed = re.search(r"^seed: ([0-9a-f]{64})$", txt, re.M).group(1)
    assert seed == d.draw_seed
    assert hashlib.sha256(seed.encode()).hexdigest() == d.draw_seed_hash
    codes = [int(c) for c in re.findall(r"^(\d+)$", txt, re.M)]
    assert sorted(codes) == list(range(1, 13))
    # What the shell line does (sha256sum of "<seed>:<code>", sort, first `tickets`), in Python.
    keyed = sorted((hashlib.sha256(f"{seed}:{c}".encode()).hexdigest(), c) for c in codes)
    expected = [c for _k, c in keyed][: d.tickets_total]
    assert expected == services.draw_order(d.draw_seed, codes)[: d.tickets_total]
    published = [(int(n), int(c)) for n, c in re.findall(r"^# (\d+) R(\d+)$", txt, re.M)]
    assert published == list(enumerate(expected, start=1))
    command = re.search(r"^#   (SEED=.*)$", txt, re.M).group(1)
    assert "sha256sum" in command and f"head -n {d.tickets_total}" in command
    # And the line itself, run by a shell, when the tools are there.
    if shutil.which("bash") and shutil.which("sha256sum"):
        (tmp_path / "draw.txt").write_text(txt, encoding="utf-8")
        out = subprocess.run(
            ["bash", "-c", command], cwd=tmp_path, capture_output=True, text=True, check=True
        ).stdout
        rows = [line.split() for line in out.strip().splitlines()]
        assert rows == [[str(i), f"R{c}"] for i, c in enumerate(expected, start=1)]


def test_draw_pages_are_404_for_a_first_come_day(client, day):
    assert client.get(f"/q/{day.public_key}/draw/").status_code == 404
    assert client.get(f"/q/{day.public_key}/draw.txt").status_code == 404


# --- unknown keys ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "/q/t/nope/",
        "/q/t/nope/state",
        "/q/nope/",
        "/q/nope/state",
        "/q/nope/board/",
        "/q/nope/poster/",
        "/q/nope/draw/",
        "/q/nope/draw.txt",
        "/q/" + "x" * 200 + "/",
    ],
)
def test_unknown_keys_are_404(client, db, url):
    assert client.get(url).status_code == 404


def test_public_pages_need_no_sign_in_and_leak_no_state_to_json(client, ledger, home, day):
    tk = services.ticket_take(day=day, household=home, notify="sms", sms_phone=PHONE).ticket
    for url in (
        f"/q/t/{tk.follow_key}/",
        f"/q/t/{tk.follow_key}/state",
        f"/q/{day.public_key}/",
        f"/q/{day.public_key}/state?n=1",
        f"/q/{day.public_key}/board/",
        f"/q/{day.public_key}/poster/",
    ):
        resp = client.get(url)
        assert resp.status_code == 200, url
        assert_no_personal_data(resp.content.decode())
    data = json.loads(client.get(f"/q/t/{tk.follow_key}/state").content)
    assert set(data) == set(services.day_state(fresh(day), 1))
