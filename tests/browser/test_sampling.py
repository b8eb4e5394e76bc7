"""The sampling page in a real browser, offline: the acceptance test of issue 6.

A sampler scans a tube and people; the network drops; more people are scanned (kept on the
phone); the page is reloaded while still offline (the service worker opens it from its cache and
the scans are still there); the network returns; every scan is in the database exactly once.

Run: .venv/bin/pytest tests/browser/test_sampling.py -q
Screenshots: SHOUWANG_SHOTS=/tmp/shots .venv/bin/pytest tests/browser/test_sampling.py -q
"""

from __future__ import annotations

import datetime as dt
import os
import re
from pathlib import Path

import pytest

from tests.browser.conftest import CHROMIUM

if not CHROMIUM.exists():
    pytest.skip(
        "browser tests need Debian's Chromium at /usr/bin/chromium (apt-get install chromium); "
        "no browser is ever downloaded",
        allow_module_level=True,
    )
expect = pytest.importorskip(
    "playwright.sync_api", reason="browser tests need the playwright package"
).expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

INPUT = "#smp-input"
RESULT = "#smp-result"
PENDING = "#smp-pending"


def _shot(page, name: str) -> None:
    folder = os.environ.get("SHOUWANG_SHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(
            path=str(Path(folder) / f"sampling-{name}.png"), full_page=True, animations="disabled"
        )


def _round(community, point=None):
    from django.utils import timezone

    from shouwang.screening.models import Round

    r = Round.objects.create(
        community=community,
        number=3,
        date=timezone.localdate(),
        starts_at=dt.time(0, 0),
        ends_at=dt.time(23, 59),
        pool_size=10,
    )
    if point:
        r.points.add(point)
    return r


def _people(community, n: int, actor):
    """`n` residents with passes, and their tokens."""
    from shouwang.core import testing as t
    from shouwang.residents import services, tokens

    b = t.make_building(community, "华美小区", "5号楼")
    out = []
    for i in range(n):
        h = t.make_household(community, building=b, door=f"{501 + i}")
        r = t.make_resident(h, name=f"孙{'一二三四五六七八'[i]}", phone="")
        out.append((r, tokens.token_for(services.pass_issue(actor=actor, resident=r).code)))
    return out


def _scan(page, text: str) -> None:
    page.keyboard.type(text)
    page.keyboard.press("Enter")


SCAN_PATHS = "**/screening/scan/**"


class _Cut:
    """The server side of a dropped network: a scan request that still reaches the test server
    is refused before any view runs (the browser sees a failed request, as it would a dead
    network). Chromium's offline emulation and request routing do not always reach the first
    requests of a document that a service worker opened, nor POSTs that the worker's static
    routing sends straight to the network, so a batch could slip out right after the reload."""

    def __init__(self):
        self.refused = 0

    def __call__(self, sender, environ=None, **kw):
        if environ and environ.get("PATH_INFO", "").startswith("/screening/scan/"):
            self.refused += 1
            raise ConnectionAbortedError("the test network is down")


_cut = _Cut()


@pytest.fixture(autouse=True)
def _network_back():
    """A test that fails while 'offline' does not leave the next test's server cut off."""
    yield
    from django.core.signals import request_started

    request_started.disconnect(_cut)


def _offline(ctx) -> None:
    """The network drops: for the browser, and for any request that still gets out."""
    from django.core.signals import request_started

    ctx.set_offline(True)
    ctx.route(SCAN_PATHS, lambda route: route.abort("internetdisconnected"))
    request_started.connect(_cut)


def _online(ctx) -> None:
    from django.core.signals import request_started

    request_started.disconnect(_cut)
    ctx.unroute(SCAN_PATHS)
    ctx.set_offline(False)


class _Hits:
    """Requests for the sampling page that reached the server (not the service worker's cache)."""

    def __init__(self, path: str):
        self.path = path
        self.count = 0

        self.seen = []

    def __call__(self, sender, environ=None, **kw):
        if environ:
            self.seen.append((environ.get("REQUEST_METHOD"), environ.get("PATH_INFO")))
        if environ and environ.get("PATH_INFO") == self.path:
            self.count += 1


def test_offline_scans_survive_a_reload_and_are_recorded_once(
    phone, live_server, personas, community, sign_in, assert_fits
):
    from django.core.signals import request_started

    from shouwang.screening.models import Sample

    people = _people(community, 6, personas["staff"])
    r = _round(community)
    url = f"/screening/rounds/{r.pk}/sample/"
    page = phone
    sign_in(page, "sampler")
    page.goto(url)
    expect(page.locator("#smp[data-ready]")).to_have_count(1)
    # The service worker has kept this page for a reload offline.
    page.wait_for_function(
        "async () => !!(await caches.match(location.href, {ignoreVary: true}))", timeout=15_000
    )
    assert page.evaluate("document.activeElement.id") == "smp-input"
    assert_fits(page)

    # Online: a tube, then two people, answered at once with the masked name.
    _scan(page, "TB-0001")
    expect(page.locator("#smp-tube-code")).to_have_text("TB-0001")
    _scan(page, people[0][1])
    expect(page.locator(RESULT)).to_have_class(re.compile(r"\bis-ok\b"))
    expect(page.locator(f"{RESULT} .smp-name")).to_have_text(re.compile(r"^孙"))
    _scan(page, people[1][1].lower())  # Caps Lock off on the scanner: still a pass
    expect(page.locator("#smp-count-n")).to_have_text("2")
    expect(page.locator(f"{RESULT}[data-status=recorded]")).to_have_count(1)
    expect(page.locator(PENDING)).to_have_attribute("data-count", "0")

    # The network drops: three more people are kept on the phone.
    _offline(page.context)
    for _r, token in people[2:5]:
        _scan(page, token)
        expect(page.locator(RESULT)).to_have_class(re.compile(r"\bis-saved\b"))
    expect(page.locator(f"{RESULT} .smp-name")).to_have_text(re.compile(r"^SW"))
    expect(page.locator(PENDING)).to_have_attribute("data-count", "3")
    expect(page.locator("#smp-net")).to_have_class(re.compile(r"\bis-offline\b"))
    expect(page.locator("#smp-count-n")).to_have_text("5")
    # The same pass twice on this phone is caught by the phone itself.
    _scan(page, people[3][1])
    expect(page.locator(RESULT)).to_have_class(re.compile(r"\bis-refused\b"))
    expect(page.locator(f"{RESULT} .smp-message")).to_have_attribute("data-code", "duplicate_local")
    expect(page.locator(PENDING)).to_have_attribute("data-count", "3")
    assert Sample.objects.count() == 2
    _shot(page, "phone-offline")

    # Reload while still offline: the page comes from the service worker, not the server.
    hits = _Hits(url)
    request_started.connect(hits)
    try:
        page.reload()
        expect(page.locator("#smp[data-ready]")).to_have_count(1)
        expect(page.locator(PENDING)).to_have_attribute("data-count", "3")
        expect(page.locator("#smp-recent-list > li.is-pending")).to_have_count(3)
        expect(page.locator("#smp-count-n")).to_have_text("5")
        # One more person after the reload, still offline.
        _scan(page, people[5][1])
        expect(page.locator(PENDING)).to_have_attribute("data-count", "4")
        assert hits.count == 0, "the reload offline was served by the service worker"
    finally:
        request_started.disconnect(hits)
    assert Sample.objects.count() == 2, hits.seen
    assert_fits(page)

    # Back online: the phone sends what it kept, each once.
    _online(page.context)
    expect(page.locator(PENDING)).to_have_attribute("data-count", "0", timeout=20_000)
    expect(page.locator("#smp-net")).to_have_class(re.compile(r"\bis-online\b"))
    expect(page.locator("#smp-recent-list > li.is-pending")).to_have_count(0)
    # A reload online (a fresh page) sends nothing again.
    page.reload()
    expect(page.locator("#smp[data-ready]")).to_have_count(1)
    expect(page.locator(PENDING)).to_have_attribute("data-count", "0")
    page.wait_for_timeout(500)

    samples = list(Sample.objects.filter(round=r).order_by("device_at"))
    assert [s.resident_id for s in samples] == [p.pk for p, _t in people]
    assert len({s.uid for s in samples}) == 6
    assert all(s.tube.code == "TB-0001" for s in samples)
    assert all(s.counted and s.voided_at is None for s in samples)
    assert all(s.sampler_id == personas["sampler"].pk for s in samples)
    # The device's time is kept beside the server's: the offline ones arrived later.
    late = [s for s in samples[2:]]
    assert all(s.server_at >= s.device_at for s in late)
    _shot(page, "phone-synced")


def test_undo_and_a_full_tube(desktop, live_server, personas, community, sign_in):
    from shouwang.screening.models import Sample, SamplingPoint

    point = SamplingPoint.objects.create(
        community=community, name="南门", kind="street", opens_at=dt.time(7), closes_at=dt.time(20)
    )
    people = _people(community, 3, personas["staff"])
    r = _round(community, point)
    page = desktop
    sign_in(page, "volunteer")
    page.goto(f"/screening/rounds/{r.pk}/sample/")
    expect(page.locator("#smp[data-ready]")).to_have_count(1)

    # A pass before any tube: the page asks for the tube first.
    _scan(page, people[0][1])
    expect(page.locator(RESULT)).to_have_class(re.compile(r"\bis-refused\b"))
    # Single tubes: one person fills the tube, which closes and asks for the next.
    page.locator("#smp-single").click()
    _scan(page, "S-1")
    expect(page.locator("#smp-count-cap")).to_have_text("1")
    _scan(page, people[0][1])
    expect(page.locator(f"{RESULT}[data-status=recorded]")).to_have_count(1)
    expect(page.locator(f"{RESULT} .smp-next")).to_be_visible()
    expect(page.locator("#smp-tube")).to_have_class(re.compile(r"\bis-empty\b"))
    _scan(page, "S-2")
    _scan(page, people[1][1])
    expect(page.locator(f"{RESULT}[data-status=recorded]")).to_have_count(1)
    # Undo the last scan: voided on the server.
    page.locator("#smp-undo").click()
    expect(page.locator(PENDING)).to_have_attribute("data-count", "0")
    expect(page.locator("#smp-recent-list > li.is-undone")).to_have_count(1)
    page.wait_for_function("document.activeElement.id === 'smp-input'")
    page.wait_for_timeout(300)
    voided = Sample.objects.get(resident=people[1][0])
    assert voided.voided_at is not None
    assert Sample.objects.get(resident=people[0][0]).point_id == point.pk

    # Someone already sampled, scanned live again: refused by the server, "do not swab".
    _scan(page, "S-3")
    page.evaluate(
        "() => { const k = Object.keys(localStorage).find(k => k.startsWith('shouwang.sampling.v1'));"
        " const s = JSON.parse(localStorage.getItem(k)); s.log = []; localStorage.setItem(k, JSON.stringify(s)); }"
    )
    page.reload()
    expect(page.locator("#smp[data-ready]")).to_have_count(1)
    _scan(page, people[0][1])
    expect(page.locator(RESULT)).to_have_class(re.compile(r"\bis-refused\b"))
    expect(page.locator(f"{RESULT} .smp-message")).to_have_attribute("data-code", "duplicate")
    assert Sample.objects.filter(resident=people[0][0]).count() == 1
    _shot(page, "desktop-refused")


def test_door_to_door(phone, live_server, personas, community, sign_in, assert_fits):
    from shouwang.screening.models import Sample, Visit, VisitList, VisitReason

    people = _people(community, 2, personas["staff"])
    r = _round(community)
    vl = VisitList.objects.create(
        community=community, round=r, name="5号楼卧床", reason=VisitReason.BEDRIDDEN
    )
    first = Visit.objects.create(visit_list=vl, household=people[0][0].household)
    second = Visit.objects.create(visit_list=vl, household=people[1][0].household)
    page = phone
    sign_in(page, "sampler")
    page.goto(f"/screening/rounds/{r.pk}/sample/?visit_list={vl.pk}")
    expect(page.locator("#smp[data-ready]")).to_have_count(1)
    expect(page.locator(".smp-visit")).to_have_count(2)
    assert_fits(page)

    # At the first home: choose it, scan a tube and the person; the visit is done.
    home = page.locator(f'.smp-visit[data-visit="{first.pk}"]')
    home.locator(".smp-visit-pick").click()
    expect(home).to_have_class(re.compile(r"\bis-current\b"))
    assert page.evaluate("document.activeElement.id") == "smp-input"
    _scan(page, "D-1")
    _scan(page, people[0][1])
    expect(page.locator(f"{RESULT}[data-status=recorded]")).to_have_count(1)
    expect(home).to_have_attribute("data-status", "visited")
    first.refresh_from_db()
    assert first.status == Visit.Status.VISITED
    assert Sample.objects.get(resident=people[0][0]).tube.code == "D-1"

    # Nobody opens at the second: "not at home", recorded by the visit list's endpoint.
    other = page.locator(f'.smp-visit[data-visit="{second.pk}"]')
    other.locator('button[data-status="not_home"]').click()
    expect(other).to_have_attribute("data-status", "not_home")
    second.refresh_from_db()
    assert second.status == Visit.Status.NOT_HOME
    _shot(page, "phone-door")


def test_find_a_person_and_register_a_walk_in(desktop, live_server, personas, community, sign_in):
    from shouwang.core.testing import valid_id
    from shouwang.screening.models import Sample

    people = _people(community, 2, personas["staff"])
    r = _round(community)
    page = desktop
    sign_in(page, "sampler")
    page.goto(f"/screening/rounds/{r.pk}/sample/")
    expect(page.locator("#smp[data-ready]")).to_have_count(1)
    _scan(page, "F-1")

    # Forgot the pass: found by name, sampled from the list.
    page.locator("#smp-find-open").click()
    page.fill("#smp-q", "孙二")
    page.keyboard.press("Enter")
    found = page.locator("#smp-found > li")
    expect(found).to_have_count(1)
    expect(found.locator("b")).to_have_text("孙*")  # a two-character name keeps the surname only
    found.locator("button").click()
    expect(page.locator(f"{RESULT}[data-status=recorded]")).to_have_count(1)
    expect(page.locator("#smp-find")).to_be_hidden()
    assert page.evaluate("document.activeElement.id") == "smp-input"
    assert Sample.objects.get(resident=people[1][0]).via == Sample.Via.SEARCH
    # Searched again: the list says they were sampled, and offers no button to do it twice.
    page.locator("#smp-find-open").click()
    page.fill("#smp-q", "孙二")
    page.keyboard.press("Enter")
    expect(found.locator("button")).to_be_disabled()

    # Not in the ledger: a typo in the ID is caught on the device; then registered and sampled.
    page.locator("#smp-walkin summary").click()
    form = page.locator("#smp-walkin-form")
    good = valid_id()
    form.locator("input[name=name]").fill("过路人")
    form.locator("input[name=id_number]").fill(good[:-1] + ("0" if good[-1] != "0" else "1"))
    form.locator("input[name=phone]").fill("13800138000")
    form.locator("button").click()
    expect(page.locator("#smp-find-note")).to_be_visible()
    assert Sample.objects.filter(resident__isnull=True).count() == 0
    form.locator("input[name=id_number]").fill(good)
    form.locator("button").click()
    expect(page.locator(f"{RESULT}[data-status=recorded]")).to_have_count(1)
    walk_in = Sample.objects.get(resident__isnull=True)
    assert walk_in.walk_in_name == "过路人" and walk_in.via == Sample.Via.WALK_IN
    assert walk_in.walk_in_id_masked.endswith(good[-4:]) and good not in walk_in.walk_in_id_masked
    expect(page.locator("#smp-count-n")).to_have_text("2")
    _shot(page, "desktop-walk-in")


def test_someone_outside_the_rounds_area_is_flagged(
    phone, live_server, personas, community, sign_in
):
    from shouwang.core import testing as t

    people = _people(community, 1, personas["staff"])
    r = _round(community)
    r.buildings.add(t.make_building(community, "华美小区", "8号楼"))  # the round covers 8号楼 only
    page = phone
    sign_in(page, "sampler")
    page.goto(f"/screening/rounds/{r.pk}/sample/")
    expect(page.locator("#smp[data-ready]")).to_have_count(1)
    _scan(page, "O-1")
    _scan(page, people[0][1])
    expect(page.locator(f"{RESULT}[data-status=recorded]")).to_have_count(1)
    expect(page.locator(f"{RESULT} .smp-flag[data-flag=out_of_scope]")).to_be_visible()
    _shot(page, "phone-flagged")
