"""Printed pass cards in a real browser: Chromium prints a building of 10 people to an A4 PDF —
2 sheets, each a page of fronts followed by a page of backs — whose text carries the masked
names, the grouped tokens and the directory's phone numbers, and whose pass QR, as rendered for
print, decodes to the right person through `pass_resolve`.

Screenshots for a person to look at go to /tmp/shots/cards-*.png.

Run: .venv/bin/pytest tests/browser/test_cards_print.py -q   (skipped without /usr/bin/chromium)
"""

from __future__ import annotations

import io
import re
import struct
import unicodedata
import zlib
from pathlib import Path

import pytest

if not Path("/usr/bin/chromium").exists():
    pytest.skip(
        "browser tests need Debian's Chromium at /usr/bin/chromium (apt-get install chromium); "
        "no browser is ever downloaded",
        allow_module_level=True,
    )
pytest.importorskip("playwright.sync_api", reason="browser tests need the playwright package")
zxingcpp = pytest.importorskip("zxingcpp", reason="the QR check needs zxing-cpp")
pypdf = pytest.importorskip("pypdf", reason="the PDF check needs pypdf")

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path("/tmp/shots")
A4_POINTS = (595.28, 841.89)
NAMES = [
    "王小明", "李四", "欧阳娜娜", "张建国", "刘秀英",
    "陈桂兰", "杨德华", "赵淑珍", "黄志强", "周玉梅",
]  # fmt: skip
DIRECTORY = [
    ("committee", "华美社区居委会", "021-5555 0101", None),
    ("pharmacy", "老百姓大药房", "021-5555 0202", 300),
    ("supermarket", "联华超市", "021-5555 0404", 450),
    ("clinic", "华美社区卫生服务站", "021-5555 0505", 800),
    ("hotline", "市民热线", "12345", None),
]
LEADER_PHONE = "021-5555 0303"


# --- pixels without Pillow (it is not a dependency of the project) ---------------------------


def _png_gray(png: bytes) -> tuple[bytes, int, int]:
    """An 8-bit RGB(A) PNG, as Chromium writes its screenshots, as grayscale rows."""
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, width = 8, b"", 0
    while pos < len(png):
        (length,) = struct.unpack(">I", png[pos : pos + 4])
        kind, body = png[pos + 4 : pos + 8], png[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, color, _c, _f, interlace = struct.unpack(">IIBBBBB", body)
            assert depth == 8 and color in (2, 6) and not interlace, "unexpected PNG"
            bpp = 3 if color == 2 else 4
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    raw = zlib.decompress(idat)
    stride = width * bpp
    prev = bytearray(stride)
    gray = bytearray()
    for y in range(height):
        start = y * (stride + 1)
        ftype, line = raw[start], bytearray(raw[start + 1 : start + 1 + stride])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            if ftype == 1:
                line[i] = (line[i] + a) & 255
            elif ftype == 2:
                line[i] = (line[i] + b) & 255
            elif ftype == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif ftype == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        gray += bytes((line[i] * 299 + line[i + 1] * 587 + line[i + 2] * 114) // 1000
                      for i in range(0, stride, bpp))  # fmt: skip
        prev = line
    return bytes(gray), width, height


def _decode_qr(png: bytes) -> list[str]:
    try:
        from PIL import Image
    except ImportError:
        gray, width, height = _png_gray(png)
        image = memoryview(gray).cast("B", shape=(height, width))
    else:
        image = Image.open(io.BytesIO(png))
    return [b.text for b in zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)]


# The CJK font maps some glyphs to radicals in the PDF's text layer (小 → ⼩, 黄 → ⻩): NFKC
# folds the Kangxi radicals back; the simplified radicals it leaves alone are folded here.
_RADICALS = str.maketrans(
    "⻩⻢⻓⻔⻜⻅⻉⻋⻛⻚⻥⻬⻘⻝⻦⻨⻰⻳⻮", "黄马长门飞见贝车风页鱼齐青食鸟麦龙龟齿"
)


def _flat(text: str) -> str:
    """PDF text without spaces, with the radicals folded back into characters."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text).translate(_RADICALS))


# --- the ledger ------------------------------------------------------------------------------


@pytest.fixture
def building(personas, community, grid_a):
    from shouwang.core import testing as t
    from shouwang.residents.models import DirectoryEntry

    leader = personas["grid_leader"]
    leader.display_name = "张网格"
    leader.work_phone = LEADER_PHONE
    leader.save(update_fields=["display_name", "work_phone"])
    grid_a.leader = leader
    grid_a.save(update_fields=["leader"])
    for sort, (kind, name, phone, distance) in enumerate(DIRECTORY):
        DirectoryEntry.objects.create(
            community=community, kind=kind, name=name, phone=phone, distance_m=distance, sort=sort
        )
    b = t.make_building(community, "华美小区", "7号楼", grid=grid_a)
    for i, name in enumerate(NAMES):
        h = t.make_household(community, building=b, door=f"{(i // 2) + 1}0{(i % 2) + 1}")
        t.make_resident(h, name=name, phone="", relation="head")
    return b


def _sign_in(page, user, live_server) -> None:
    """A staff session cookie, as `client.force_login` makes it (no password form)."""
    from django.test import Client

    c = Client()
    c.force_login(user)
    cookie = c.cookies["sessionid"]
    page.context.add_cookies([{"name": "sessionid", "value": cookie.value, "url": live_server.url}])


def test_cards_print_to_a4_pdf_with_readable_text_and_scannable_qr(
    desktop, phone, live_server, personas, building, community, assert_fits
):
    from shouwang.core.masking import mask_name_initial
    from shouwang.residents import tokens
    from shouwang.residents.models import HouseholdLink, Pass
    from shouwang.residents.services import pass_resolve

    SHOTS.mkdir(parents=True, exist_ok=True)
    url = f"/passes/cards/?building={building.pk}"
    page = desktop
    _sign_in(page, personas["admin"], live_server)
    response = page.goto(url)
    assert response is not None and response.status == 200
    assert page.locator(".cards-count").get_attribute("data-count") == "10"
    page.screenshot(path=str(SHOTS / "cards-desktop.png"), full_page=False)
    page.screenshot(path=str(SHOTS / "cards-desktop-full.png"), full_page=True)

    passes = {p.resident.name: p for p in Pass.objects.select_related("resident")}
    assert len(passes) == 10
    grouped = {name: tokens.grouped(tokens.token_for(p.code)) for name, p in passes.items()}

    # --- the PDF: 2 sheets × (fronts, backs), A4 ---
    pdf_bytes = page.pdf(format="A4", print_background=True)
    (SHOTS / "cards.pdf").write_bytes(pdf_bytes)
    pdf = pypdf.PdfReader(io.BytesIO(pdf_bytes))
    assert len(pdf.pages) == 4, "2 sheets of 8 cards, each a page of fronts and a page of backs"
    for p in pdf.pages:
        w, h = float(p.mediabox.width), float(p.mediabox.height)
        assert abs(w - A4_POINTS[0]) < 1.5 and abs(h - A4_POINTS[1]) < 1.5, (w, h)
    texts = [_flat(p.extract_text()) for p in pdf.pages]
    order = [page.locator(f".sheet.fronts[data-sheet='{n}'] .pcard.front") for n in (1, 2)]
    front_ids = [[int(x) for x in o.evaluate_all("els => els.map(e => e.dataset.resident)")]
                 for o in order]  # fmt: skip
    assert [len(ids) for ids in front_ids] == [8, 2]
    by_id = {p.resident_id: p.resident.name for p in passes.values()}
    for sheet, ids in enumerate(front_ids):
        front, back = texts[2 * sheet], texts[2 * sheet + 1]
        for rid in ids:
            name = by_id[rid]
            assert _flat(mask_name_initial(name)) in front, (sheet, name)
            assert grouped[name] in front, (sheet, grouped[name])
        for name in NAMES:
            assert name not in front and name not in back, "a full name in the PDF"
        for _kind, _name, number, _distance in DIRECTORY:
            assert _flat(number) in back, (sheet, number)
        assert _flat(LEADER_PHONE) in back and "张网格" in back
        assert grouped[by_id[ids[0]]] not in back, "tokens are on the fronts only"

    # --- the pass QR, rendered for print, scans to the right person ---
    page.set_viewport_size({"width": 800, "height": 1200})
    page.emulate_media(media="print")
    # Long-edge duplex: each back sits at the mirror image of its front's place on the sheet.
    for n in (1, 2):
        sheets = {side: page.locator(f".sheet[data-sheet='{n}'][data-side='{side}']")
                  for side in ("front", "back")}  # fmt: skip
        boxes = {side: sheet.bounding_box() for side, sheet in sheets.items()}
        for rid in front_ids[n - 1]:
            f = sheets["front"].locator(f".pcard[data-resident='{rid}']").bounding_box()
            b = sheets["back"].locator(f".pcard[data-resident='{rid}']").bounding_box()
            f_left = f["x"] - boxes["front"]["x"]
            b_right = boxes["back"]["x"] + boxes["back"]["width"] - (b["x"] + b["width"])
            assert abs(f_left - b_right) < 1, (n, rid, f_left, b_right)
            f_top, b_top = f["y"] - boxes["front"]["y"], b["y"] - boxes["back"]["y"]
            assert abs(f_top - b_top) < 1, (n, rid, f_top, b_top)

    first_front = page.locator(".sheet.fronts .pcard.front").first
    rid = int(first_front.get_attribute("data-resident"))
    decoded = _decode_qr(first_front.locator(".pc-qr svg").screenshot())
    assert len(decoded) == 1, decoded
    holder = pass_resolve(decoded[0], community_id=community.pk)
    assert holder.resident_id == rid
    assert tokens.grouped(decoded[0]) == grouped[by_id[rid]]

    # ... and the household QR on its back opens that household's link.
    back = page.locator(f".sheet.backs .pcard.back[data-resident='{rid}']")
    link = _decode_qr(back.locator(".pc-link svg").screenshot())
    assert len(link) == 1 and link[0].startswith(live_server.url + "/h/"), link
    token = link[0].rstrip("/").rsplit("/", 1)[-1]
    found = HouseholdLink.objects.get(token_hash=tokens.link_hash(token), revoked_at=None)
    assert found.household_id == passes[by_id[rid]].resident.household_id

    # The print layout as paper, for a person to look at.
    for side in ("front", "back"):
        page.locator(f".sheet[data-sheet='1'][data-side='{side}']").screenshot(
            path=str(SHOTS / f"cards-print-sheet1-{side}.png")
        )
    first_front.screenshot(path=str(SHOTS / "cards-print-card-front.png"))
    back.screenshot(path=str(SHOTS / "cards-print-card-back.png"))
    page.emulate_media(media="screen")

    # Printing was recorded once per render: the page above was opened once.
    assert set(Pass.objects.values_list("print_count", flat=True)) == {1}

    # --- a 360 px phone: the toolbar and the scaled sheets fit the screen ---
    _sign_in(phone, personas["admin"], live_server)
    phone.goto(url)
    assert phone.locator(".print-button").is_visible()
    assert_fits(phone)
    phone.screenshot(path=str(SHOTS / "cards-360.png"), full_page=False)
    phone.screenshot(path=str(SHOTS / "cards-360-full.png"), full_page=True)
    assert set(Pass.objects.values_list("print_count", flat=True)) == {2}

    # One card each side at twice the resolution, as printed, for a closer look.
    phone.set_viewport_size({"width": 800, "height": 1200})
    phone.emulate_media(media="print")
    phone.locator(f".pcard.front[data-resident='{rid}']").screenshot(
        path=str(SHOTS / "cards-print-card-front-2x.png")
    )
    phone.locator(f".pcard.back[data-resident='{rid}']").screenshot(
        path=str(SHOTS / "cards-print-card-back-2x.png")
    )


def test_choosing_people_and_the_directory_fit_a_phone(
    phone, live_server, personas, building, assert_fits
):
    from shouwang.residents.models import Pass

    _sign_in(phone, personas["admin"], live_server)
    SHOTS.mkdir(parents=True, exist_ok=True)
    phone.goto("/passes/cards/")
    assert_fits(phone)
    phone.screenshot(path=str(SHOTS / "cards-choose-360.png"), full_page=True)
    phone.locator("select[name=building]").select_option(str(building.pk))
    phone.locator("form:has(select[name=building]) button").click()
    phone.wait_for_load_state()
    assert phone.locator(".pcard.front").count() == 10
    assert Pass.objects.count() == 10

    phone.goto("/directory/")
    assert phone.locator("section[data-kind='committee']").is_visible()
    assert_fits(phone)
    phone.screenshot(path=str(SHOTS / "directory-360.png"), full_page=True)
    form = phone.locator("#add form")
    form.locator("select[name=kind]").select_option("pharmacy")
    form.locator("input[name=name]").fill("大药房")
    form.locator("input[name=phone]").fill("call us")
    form.locator("button.primary").click()
    phone.wait_for_load_state()
    assert phone.locator("#add .field.has-error input[name=phone]").is_visible()
    assert_fits(phone)
    phone.screenshot(path=str(SHOTS / "directory-360-errors.png"), full_page=True)
