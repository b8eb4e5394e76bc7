"""The goods board: volunteers post items with phone photos (resized, upright, metadata gone),
prices and units, mark them sold out; the photo address is public and cacheable."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone
from PIL import ExifTags, Image

from shouwang.core.errors import DomainError
from shouwang.core.models import AuditEvent
from shouwang.queues import goods as goods_services
from shouwang.queues import images, services
from shouwang.queues.models import Goods, SaleDay

RED, GREEN = (255, 0, 0), (0, 128, 0)


def make_day(actor, name="松林超市 三村摊位") -> SaleDay:
    now = timezone.now()
    point = services.point_save(actor=actor, name=name, location="小广场")
    return services.day_create(
        actor=actor,
        point=point,
        date=timezone.localdate(),
        take_opens_at=now - dt.timedelta(hours=2),
        take_closes_at=now + dt.timedelta(hours=4),
        sale_starts_at=now - dt.timedelta(hours=1),
        sale_ends_at=now + dt.timedelta(hours=2),
        tickets_total=300,
    )


def phone_jpeg(w=3000, h=2000, orientation=6) -> bytes:
    """A photo as a phone stores it: sideways pixels, an orientation tag, the make and the GPS
    position. The top-left quarter of the stored pixels is red."""
    im = Image.new("RGB", (w, h), GREEN)
    im.paste(RED, (0, 0, w // 2, h // 2))
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = orientation
    exif[ExifTags.Base.Make] = "PhoneMaker"
    exif[ExifTags.Base.Model] = "Serial-123456"
    exif[ExifTags.IFD.GPSInfo] = {
        ExifTags.GPS.GPSLatitudeRef: "N",
        ExifTags.GPS.GPSLatitude: (31.0, 12.0, 30.0),
        ExifTags.GPS.GPSLongitudeRef: "E",
        ExifTags.GPS.GPSLongitude: (121.0, 20.0, 10.0),
    }
    out = io.BytesIO()
    im.save(out, "JPEG", exif=exif, quality=85, comment=b"taken at home")
    return out.getvalue()


def png_transparent(w=500, h=400) -> bytes:
    im = Image.new("RGBA", (w, h), (0, 0, 0, 0))
    im.paste((0, 0, 255, 255), (100, 100, 200, 200))
    out = io.BytesIO()
    im.save(out, "PNG")
    return out.getvalue()


def upload(data: bytes, name="photo.jpg", ctype="image/jpeg") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type=ctype)


def is_red(px) -> bool:
    return px[0] > 200 and px[1] < 60 and px[2] < 60


@pytest.fixture
def en():
    c = Client()
    c.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return c


@pytest.fixture
def day(personas):
    return make_day(personas["staff"])


@pytest.fixture
def as_volunteer(en, personas):
    en.force_login(personas["volunteer"])
    return en


# --- the image ------------------------------------------------------------------------------


def test_phone_photo_is_upright_resized_and_stripped():
    p = images.photo_process(upload(phone_jpeg()))
    photo = Image.open(io.BytesIO(p.photo))
    thumb = Image.open(io.BytesIO(p.thumb))
    # 3000 × 2000 stored sideways (orientation 6 = turn 90° clockwise) → 2000 × 3000 → ≤ 1280.
    assert photo.format == "JPEG" and photo.size == (853, 1280) == p.size
    assert thumb.format == "JPEG" and thumb.size == (240, 360) == p.thumb_size
    # Turned: the stored top-left (red) is now the top-right.
    assert is_red(photo.getpixel((photo.width - 10, 10)))
    assert not is_red(photo.getpixel((10, 10)))
    for im in (photo, thumb):
        assert len(im.getexif()) == 0
        assert not {"exif", "icc_profile", "xmp", "comment", "photoshop"} & set(im.info)
    raw = p.photo + p.thumb
    assert b"PhoneMaker" not in raw and b"Serial-123456" not in raw and b"taken at home" not in raw
    assert b"Exif" not in raw
    import hashlib

    assert p.photo_hash == hashlib.sha256(p.photo).hexdigest()[:16]


def test_small_photo_is_not_enlarged_and_transparent_png_goes_on_white():
    p = images.photo_process(upload(png_transparent(), "x.png", "image/png"))
    photo = Image.open(io.BytesIO(p.photo))
    assert photo.mode == "RGB" and photo.size == (500, 400)
    r, g, b = photo.getpixel((10, 10))
    assert min(r, g, b) > 240  # white, not black
    assert photo.getpixel((150, 150))[2] > 200


@pytest.mark.parametrize(
    "data,code",
    [
        (b"%PDF-1.4 this is a document, not a photo", "photo_unreadable"),
        (b"\xff\xd8\xff\xe0 truncated jpeg", "photo_unreadable"),
        (b"", "photo_empty"),
    ],
)
def test_non_images_are_refused_with_a_message(data, code):
    with pytest.raises(DomainError) as e:
        images.photo_process(upload(data))
    assert e.value.code == code
    assert "photo" in e.value.fields
    assert "photo" in str(e.value.message).lower()


def test_too_large_upload_and_too_many_pixels(monkeypatch):
    monkeypatch.setattr(images, "MAX_UPLOAD_BYTES", 1000)
    with pytest.raises(DomainError) as e:
        images.photo_process(upload(phone_jpeg(400, 300)))
    assert e.value.code == "photo_too_large"
    monkeypatch.setattr(images, "MAX_UPLOAD_BYTES", 10 * 1024 * 1024)
    monkeypatch.setattr(images, "MAX_PIXELS", 1000)
    with pytest.raises(DomainError) as e:
        images.photo_process(upload(phone_jpeg(400, 300)))
    assert e.value.code == "photo_too_many_pixels"
    assert "400 × 300" in str(e.value.message)


# --- the pages ------------------------------------------------------------------------------


def test_volunteer_adds_an_item_with_a_phone_photo(as_volunteer, day, personas):
    url = f"/queue/days/{day.pk}/goods/"
    page = as_volunteer.get(url)
    assert page.status_code == 200
    html = page.content.decode()
    assert 'accept="image/*"' in html and 'capture="environment"' in html
    assert 'enctype="multipart/form-data"' in html
    v0 = SaleDay.objects.get(pk=day.pk).version
    resp = as_volunteer.post(
        url,
        {
            "name": " 大白菜 ",
            "price": "3.5",
            "unit": "斤",
            "note": "每户限2棵",
            "photo": upload(phone_jpeg()),
        },
    )
    assert resp.status_code == 302 and resp.url == url
    g = Goods.objects.get(day=day)
    assert (g.name, str(g.price), g.unit, g.note) == ("大白菜", "3.50", "斤", "每户限2棵")
    assert g.community_id == day.community_id and g.created_by == personas["volunteer"]
    assert Image.open(io.BytesIO(bytes(g.photo))).size == (853, 1280)
    assert max(Image.open(io.BytesIO(bytes(g.thumb))).size) == 360
    assert len(g.photo_hash) == 16
    d = SaleDay.objects.get(pk=day.pk)
    assert d.version == v0 + 1 and d.snapshot["goods"] == [1, 0]
    assert AuditEvent.objects.filter(action="queue.goods.create", target_id=str(g.pk)).exists()
    page = as_volunteer.get(url).content.decode()
    assert "大白菜" in page and f"/q/photo/{g.pk}/{g.photo_hash}.jpg?thumb=1" in page


def test_non_image_upload_shows_what_to_do(as_volunteer, day):
    resp = as_volunteer.post(
        f"/queue/days/{day.pk}/goods/",
        {"name": "鸡蛋", "photo": upload(b"not a picture at all", "eggs.jpg")},
    )
    assert resp.status_code == 400
    html = resp.content.decode()
    assert "This file is not a photo we can read" in html and "JPEG or PNG" in html
    assert not Goods.objects.exists()


def test_missing_name_and_bad_price_are_marked(as_volunteer, day):
    resp = as_volunteer.post(f"/queue/days/{day.pk}/goods/", {"name": "", "price": "3.5"})
    assert resp.status_code == 400 and "name" in resp.context["form"].errors
    resp = as_volunteer.post(f"/queue/days/{day.pk}/goods/", {"name": "土豆", "price": "cheap"})
    assert resp.status_code == 400
    assert "Type the price in yuan" in resp.context["form"].errors["price"][0]
    resp = as_volunteer.post(f"/queue/days/{day.pk}/goods/", {"name": "土豆", "price": "-1"})
    assert resp.status_code == 400 and "between 0" in resp.context["form"].errors["price"][0]
    assert not Goods.objects.exists()


def test_photo_url_serves_the_current_photo_only(day, personas):
    g = goods_services.goods_save(
        actor=personas["volunteer"], day=day, name="西红柿", photo_file=upload(phone_jpeg())
    )
    anon = Client()
    url = f"/q/photo/{g.pk}/{g.photo_hash}.jpg"
    assert goods_services.photo_url(g) == url
    resp = anon.get(url)
    assert resp.status_code == 200 and resp["Content-Type"] == "image/jpeg"
    assert resp.content == bytes(g.photo)
    assert resp["Cache-Control"] == "public, max-age=31536000, immutable"
    assert resp["ETag"] == f'"{g.photo_hash}"'
    thumb = anon.get(url + "?thumb=1")
    assert thumb.status_code == 200 and thumb.content == bytes(g.thumb)
    assert thumb["ETag"] == f'"{g.photo_hash}-t"'
    again = anon.get(url, headers={"If-None-Match": resp["ETag"]})
    assert again.status_code == 304 and again.content == b""
    assert anon.get(f"/q/photo/{g.pk}/0000000000000000.jpg").status_code == 404
    assert anon.get(f"/q/photo/{g.pk + 1}/{g.photo_hash}.jpg").status_code == 404
    # A new photo: the old address stops working, the new one works.
    old = g.photo_hash
    g = goods_services.goods_save(
        actor=personas["volunteer"],
        day=day,
        goods=g,
        name="西红柿",
        photo_file=upload(png_transparent(), "t.png"),
    )
    assert g.photo_hash != old
    assert anon.get(url).status_code == 404
    assert anon.get(url, headers={"If-None-Match": f'"{old}"'}).status_code == 404
    assert anon.get(f"/q/photo/{g.pk}/{g.photo_hash}.jpg").status_code == 200
    # Removing the photo: nothing is served.
    goods_services.goods_save(
        actor=personas["volunteer"], day=day, goods=g, name="西红柿", remove_photo=True
    )
    g.refresh_from_db()
    assert g.photo is None and g.thumb is None and g.photo_hash == ""
    assert anon.get(f"/q/photo/{g.pk}/{old}.jpg").status_code == 404


def test_sold_out_toggle_bumps_the_day_once(as_volunteer, day, personas):
    g = goods_services.goods_save(actor=personas["staff"], day=day, name="土豆")
    v0 = SaleDay.objects.get(pk=day.pk).version
    url = f"/queue/goods/{g.pk}/sold-out/"
    resp = as_volunteer.post(url, {"sold_out": "1"})
    assert resp.status_code == 302 and resp.url.endswith(
        f"/queue/days/{day.pk}/goods/#goods-{g.pk}"
    )
    g.refresh_from_db()
    assert g.sold_out_at is not None
    d = SaleDay.objects.get(pk=day.pk)
    assert d.version == v0 + 1 and d.snapshot["goods"] == [1, 1]
    first = g.sold_out_at
    as_volunteer.post(url, {"sold_out": "1"})  # a double tap changes nothing
    g.refresh_from_db()
    assert g.sold_out_at == first and SaleDay.objects.get(pk=day.pk).version == v0 + 1
    as_volunteer.post(url, {"sold_out": "0"})
    g.refresh_from_db()
    d = SaleDay.objects.get(pk=day.pk)
    assert g.sold_out_at is None and d.version == v0 + 2 and d.snapshot["goods"] == [1, 0]
    actions = list(
        AuditEvent.objects.filter(target_id=str(g.pk), action__startswith="queue.goods.")
        .order_by("pk")
        .values_list("action", flat=True)
    )
    assert actions == ["queue.goods.create", "queue.goods.sold_out", "queue.goods.in_stock"]
    assert as_volunteer.get(url).status_code == 405


def test_edit_move_and_delete(as_volunteer, day, personas):
    a = goods_services.goods_save(actor=personas["staff"], day=day, name="A")
    b = goods_services.goods_save(actor=personas["staff"], day=day, name="B")
    c = goods_services.goods_save(actor=personas["staff"], day=day, name="C")
    assert [a.position, b.position, c.position] == [0, 1, 2]
    page = as_volunteer.get(f"/queue/goods/{b.pk}/edit/")
    assert page.status_code == 200 and 'value="B"' in page.content.decode()
    resp = as_volunteer.post(
        f"/queue/goods/{b.pk}/edit/", {"name": "B2", "price": "12", "unit": "kg", "note": ""}
    )
    assert resp.status_code == 302
    b.refresh_from_db()
    assert (b.name, str(b.price), b.unit) == ("B2", "12.00", "kg")
    as_volunteer.post(f"/queue/goods/{c.pk}/edit/", {"move": "up"})
    order = list(goods_services.goods_for_day(day).values_list("name", flat=True))
    assert order == ["A", "C", "B2"]
    as_volunteer.post(f"/queue/goods/{a.pk}/edit/", {"move": "up"})  # already first
    assert list(goods_services.goods_for_day(day).values_list("name", flat=True))[0] == "A"
    v0 = SaleDay.objects.get(pk=day.pk).version
    resp = as_volunteer.post(f"/queue/goods/{c.pk}/delete/")
    assert resp.status_code == 302 and resp.url == f"/queue/days/{day.pk}/goods/"
    assert not Goods.objects.filter(pk=c.pk).exists()
    d = SaleDay.objects.get(pk=day.pk)
    assert d.version == v0 + 1 and d.snapshot["goods"] == [2, 0]
    assert AuditEvent.objects.filter(action="queue.goods.delete", summary="C").exists()


@pytest.mark.parametrize("role", ["admin", "staff", "grid_leader", "volunteer"])
def test_goods_roles_allowed(en, day, personas, role):
    en.force_login(personas[role])
    assert en.get(f"/queue/days/{day.pk}/goods/").status_code == 200
    resp = en.post(f"/queue/days/{day.pk}/goods/", {"name": f"by {role}"})
    assert resp.status_code == 302
    assert Goods.objects.filter(name=f"by {role}").exists()


@pytest.mark.parametrize("role", ["guard", "sampler", "merchant", "resident"])
def test_goods_roles_refused(en, day, personas, role):
    g = goods_services.goods_save(actor=personas["staff"], day=day, name="米")
    en.force_login(personas[role])
    assert en.get(f"/queue/days/{day.pk}/goods/").status_code == 403
    assert en.post(f"/queue/days/{day.pk}/goods/", {"name": "x"}).status_code == 403
    assert en.post(f"/queue/goods/{g.pk}/sold-out/", {"sold_out": "1"}).status_code == 403
    assert en.post(f"/queue/goods/{g.pk}/delete/").status_code == 403
    assert en.get(f"/queue/goods/{g.pk}/edit/").status_code == 403
    g.refresh_from_db()
    assert g.sold_out_at is None and Goods.objects.count() == 1


def test_anonymous_is_sent_to_sign_in(en, day):
    resp = en.get(f"/queue/days/{day.pk}/goods/")
    assert resp.status_code == 302 and "login" in resp.url


def test_another_community_gets_404(en, day, personas):
    g = goods_services.goods_save(actor=personas["staff"], day=day, name="米")
    en.force_login(personas["outsider"])
    assert en.get(f"/queue/days/{day.pk}/goods/").status_code == 404
    assert en.post(f"/queue/days/{day.pk}/goods/", {"name": "x"}).status_code == 404
    assert en.get(f"/queue/goods/{g.pk}/edit/").status_code == 404
    assert en.post(f"/queue/goods/{g.pk}/edit/", {"name": "x"}).status_code == 404
    assert en.post(f"/queue/goods/{g.pk}/sold-out/", {"sold_out": "1"}).status_code == 404
    assert en.post(f"/queue/goods/{g.pk}/delete/").status_code == 404
    g.refresh_from_db()
    assert g.name == "米" and g.sold_out_at is None


def test_goods_of_another_day_cannot_be_saved_into_this_one(day, personas):
    other = make_day(personas["staff"], name="别的摊位")
    g = goods_services.goods_save(actor=personas["staff"], day=other, name="米")
    with pytest.raises(DomainError) as e:
        goods_services.goods_save(actor=personas["staff"], day=day, goods=g, name="米")
    assert e.value.code == "wrong_day"
