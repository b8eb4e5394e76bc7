"""Photos of the day's goods: taken on a volunteer's phone, shown on residents' phones.

An upload is opened defensively (size and pixel limits, image formats only), turned upright
from its EXIF orientation, converted to sRGB, and re-encoded from the pixels alone: the EXIF
block of a phone photo carries the GPS position of whoever took it, the phone's make and serial
number and the time, none of which belongs on a public goods board.
"""

from __future__ import annotations

import hashlib
import io
import warnings
from dataclasses import dataclass

from django.utils.translation import gettext as _
from PIL import Image, ImageCms, ImageOps, UnidentifiedImageError

from shouwang.core.errors import DomainError

MAX_UPLOAD_BYTES = 10 * 1024 * 1024
# 50 MP phone cameras exist (8160 × 6144); above this an upload is a decompression bomb, not a
# photo of cabbages. Checked on the header before any pixel is decoded.
MAX_PIXELS = 60_000_000
PHOTO_EDGE = 1280
THUMB_EDGE = 360
QUALITY = 80
# What phones and desktop browsers upload (iOS converts HEIC to JPEG when a page asks for a file).
FORMATS = ("JPEG", "PNG", "WEBP", "AVIF", "GIF", "BMP")  # JPEG includes MPO
Image.init()  # register every plugin now: Image.open(formats=…) only preloads a few


@dataclass(frozen=True)
class Photo:
    photo: bytes
    thumb: bytes
    photo_hash: str
    size: tuple[int, int]
    thumb_size: tuple[int, int]


def _bad(code: str, message) -> DomainError:
    return DomainError(code, message, fields={"photo": message})


def _not_an_image() -> DomainError:
    return _bad(
        "photo_unreadable",
        _(
            "This file is not a photo we can read. Take the photo again with the camera, or "
            "choose a JPEG or PNG picture."
        ),
    )


def _read(upload) -> bytes:
    size = getattr(upload, "size", None)
    if size is not None and size > MAX_UPLOAD_BYTES:
        raise _too_large()
    if hasattr(upload, "seek"):
        upload.seek(0)
    data = upload.read(MAX_UPLOAD_BYTES + 1)
    if len(data) > MAX_UPLOAD_BYTES:
        raise _too_large()
    if not data:
        raise _bad("photo_empty", _("The photo file is empty. Take the photo again."))
    return data


def _too_large() -> DomainError:
    return _bad(
        "photo_too_large",
        _(
            "The photo is larger than %(mb)d MB. Take it again at a lower resolution, or choose "
            "a smaller picture."
        )
        % {"mb": MAX_UPLOAD_BYTES // (1024 * 1024)},
    )


def _to_srgb(im: Image.Image) -> Image.Image:
    """Phones tag photos with Display P3 and similar profiles; the profile is dropped with the
    rest of the metadata, so convert the pixels to sRGB first or the colours go dull."""
    icc = im.info.get("icc_profile")
    if not icc or im.mode not in ("RGB", "RGBA"):
        return im
    try:
        src = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        dst = ImageCms.createProfile("sRGB")
        return ImageCms.profileToProfile(im, src, dst, outputMode=im.mode)
    except (ImageCms.PyCMSError, OSError, ValueError):
        return im  # a broken profile: keep the pixels as they are


def _flatten(im: Image.Image) -> Image.Image:
    """RGB on white: JPEG has no transparency, and a transparent PNG must not turn black."""
    if im.mode in ("RGBA", "LA") or (im.mode == "P" and "transparency" in im.info):
        im = im.convert("RGBA")
        bg = Image.new("RGB", im.size, (255, 255, 255))
        bg.paste(im, mask=im.getchannel("A"))
        return bg
    return im.convert("RGB")


def _jpeg(im: Image.Image) -> bytes:
    # A new image holds the pixels only: no EXIF, XMP, ICC, comment or other info to carry over.
    clean = Image.new("RGB", im.size)
    clean.paste(im)
    out = io.BytesIO()
    clean.save(out, "JPEG", quality=QUALITY, optimize=True, progressive=True)
    return out.getvalue()


def photo_process(upload) -> Photo:
    """The stored photo (≤ 1280 px on the long edge) and thumbnail (≤ 360 px) as JPEG, with the
    hash that goes into their URL. DomainError with a message for the volunteer otherwise."""
    data = _read(upload)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            im = Image.open(io.BytesIO(data), formats=FORMATS)
            w, h = im.size
            if w < 1 or h < 1:
                raise _not_an_image()
            if w * h > MAX_PIXELS:
                raise _bad(
                    "photo_too_many_pixels",
                    _(
                        "The picture is %(w)d × %(h)d pixels, too large to process. Take it "
                        "again at a lower resolution."
                    )
                    % {"w": w, "h": h},
                )
            if im.format in ("JPEG", "MPO"):
                # Decode at 1/2, 1/4 or 1/8 scale when that still covers 1280 px: a 12 MP phone
                # photo then costs a quarter of the memory and time.
                im.draft("RGB", (PHOTO_EDGE, PHOTO_EDGE))
            im = ImageOps.exif_transpose(im)
            im = _flatten(_to_srgb(im))
    except DomainError:
        raise
    except (
        UnidentifiedImageError,
        Image.DecompressionBombError,
        Image.DecompressionBombWarning,
        OSError,
        SyntaxError,
        ValueError,
        EOFError,
    ):
        raise _not_an_image() from None
    im.thumbnail((PHOTO_EDGE, PHOTO_EDGE), Image.Resampling.LANCZOS)
    photo = _jpeg(im)
    thumb_im = im.copy()
    thumb_im.thumbnail((THUMB_EDGE, THUMB_EDGE), Image.Resampling.LANCZOS)
    thumb = _jpeg(thumb_im)
    return Photo(
        photo=photo,
        thumb=thumb,
        photo_hash=hashlib.sha256(photo).hexdigest()[:16],
        size=im.size,
        thumb_size=thumb_im.size,
    )
