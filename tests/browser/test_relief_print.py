"""A grid's relief distribution list in a real browser: Chromium prints it to an A4 PDF whose
text carries every door, the masked head and phone and the portions — never a full name or a
full phone — and the phone page fits 360 px with its tick buttons working.

Screenshots for a person to look at go to /tmp/shots/relief-*.png.

Run: .venv/bin/pytest tests/browser/test_relief_print.py -q   (skipped without /usr/bin/chromium)
"""

from __future__ import annotations

import io
import re
import unicodedata
from pathlib import Path

import pytest

if not Path("/usr/bin/chromium").exists():
    pytest.skip(
        "browser tests need Debian's Chromium at /usr/bin/chromium (apt-get install chromium); "
        "no browser is ever downloaded",
        allow_module_level=True,
    )
pytest.importorskip("playwright.sync_api", reason="browser tests need the playwright package")
pypdf = pytest.importorskip("pypdf", reason="the PDF check needs pypdf")

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path("/tmp/shots")
A4_POINTS = (595.28, 841.89)
# Surnames of the heads; 60 households over two buildings run over more than one page.
NAMES = "王李张刘陈杨黄赵周吴"


# The CJK font maps some glyphs to radicals in the PDF's text layer (小 → ⼩): NFKC folds the
# Kangxi radicals back; the simplified radicals it leaves alone are folded here (as in
# test_cards_print.py).
_RADICALS = str.maketrans(
    "⻩⻢⻓⻔⻜⻅⻉⻋⻛⻚⻥⻬⻘⻝⻦⻨⻰⻳⻮", "黄马长门飞见贝车风页鱼齐青食鸟麦龙龟齿"
)


def _flat(text: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text or "").translate(_RADICALS))


def _sign_in(page, user, live_server) -> None:
    from django.test import Client

    c = Client()
    c.force_login(user)
    cookie = c.cookies["sessionid"]
    page.context.add_cookies([{"name": "sessionid", "value": cookie.value, "url": live_server.url}])


@pytest.fixture
def issued(community, personas, grid_a):
    from shouwang.core import testing as t
    from shouwang.supplies.relief import services

    households = []
    for b, building in enumerate(["1号楼", "2号楼"]):
        bld = t.make_building(community, "华美小区", building, grid=grid_a)
        for i in range(30):
            h = t.make_household(community, building=bld, door=f"{i // 4 + 1}0{i % 4 + 1}")
            size = 6 if i % 7 == 0 else 1 + i % 4
            for m in range(size):
                t.make_resident(
                    h,
                    name=NAMES[(i + b) % 10] + "建国" if m == 0 else NAMES[m] + "某",
                    relation="head" if m == 0 else "other",
                    phone=f"+86139{b}{i:03d}{(i * 37 + b) % 10000:04d}" if m == 0 else "",
                )
            households.append(h)
    batch = services.batch_save(
        actor=personas["admin"],
        community=community,
        title="第二批生活物资",
        contents="大米 5 kg\n食用油 1.8 L",
        portions_available=500,
    )
    services.batch_issue(actor=personas["admin"], batch=batch)
    return batch


def test_distribution_list_prints_to_a4_with_every_door(
    desktop, phone, live_server, personas, grid_a, issued, assert_fits
):
    from shouwang.supplies.relief.models import ReliefAllocation

    SHOTS.mkdir(parents=True, exist_ok=True)
    rows = list(ReliefAllocation.objects.filter(batch=issued).select_related("household__head"))
    assert len(rows) == 60
    page = desktop
    _sign_in(page, personas["grid_leader"], live_server)
    resp = page.goto(f"/relief/{issued.pk}/grids/{grid_a.pk}/print/")
    assert resp is not None and resp.status == 200
    page.screenshot(path=str(SHOTS / "relief-print.png"), full_page=True)
    pdf_bytes = page.pdf(format="A4", print_background=True)
    (SHOTS / "relief-list.pdf").write_bytes(pdf_bytes)
    pdf = pypdf.PdfReader(io.BytesIO(pdf_bytes))
    assert len(pdf.pages) >= 2, "60 rows do not fit one page"
    for p in pdf.pages:
        w, h = float(p.mediabox.width), float(p.mediabox.height)
        assert abs(w - A4_POINTS[0]) < 1.5 and abs(h - A4_POINTS[1]) < 1.5, (w, h)
    text = _flat("".join(p.extract_text() for p in pdf.pages))
    assert _flat(issued.title) in text
    for a in rows:
        assert _flat(a.phone_masked) in text, a.phone_masked
        assert a.household.head.phone[3:] not in text, "a full phone number in the PDF"
        assert a.household.head.name not in text, "a full name in the PDF"
    total = sum(a.portions for a in rows)
    assert any(a.portions == 2 for a in rows)
    assert "1号楼" in text and "2号楼" in text and str(total) in text
    # The toolbar and the site's navigation do not print.
    assert "Print" not in text and "打印" not in text

    # The phone page: fits 360 px; ticking a row records it.
    _sign_in(phone, personas["grid_leader"], live_server)
    phone.goto(f"/relief/{issued.pk}/grids/{grid_a.pk}/")
    assert_fits(phone)
    first = ReliefAllocation.objects.filter(batch=issued).order_by("pk")[0]
    phone.locator(f"#a{first.pk} button[value=delivered]").click()
    phone.wait_for_load_state()
    first.refresh_from_db()
    assert first.status == "delivered"
    assert "rl-is-delivered" in (phone.locator(f"#a{first.pk}").get_attribute("class") or "")
    phone.screenshot(path=str(SHOTS / "relief-phone.png"), full_page=False)


def test_office_and_follow_up_pages_fit_a_phone(
    phone, live_server, personas, grid_a, issued, community, assert_fits
):
    from shouwang.supplies.relief import services

    draft = services.batch_save(
        actor=personas["admin"], community=community, title="第三批", portions_available=10
    )
    _sign_in(phone, personas["admin"], live_server)
    for url in [
        "/relief/",
        "/relief/new/",
        f"/relief/{draft.pk}/preview/",
        f"/relief/{issued.pk}/",
        f"/relief/{issued.pk}/recount/",
        f"/relief/{issued.pk}/undelivered/",
    ]:
        resp = phone.goto(url)
        assert resp is not None and resp.status == 200, url
        assert_fits(phone)
    phone.goto(f"/relief/{draft.pk}/preview/")
    phone.screenshot(path=str(SHOTS / "relief-preview-phone.png"), full_page=True)
