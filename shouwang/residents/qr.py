"""QR codes as inline SVG: crisp on a phone screen and in print, no image files to serve."""

from __future__ import annotations

import io

import segno
from django.utils.safestring import mark_safe


def qr_svg(text: str, *, title: str = "", css_class: str = "qr") -> str:
    """An SVG that scales to its box (no fixed size); error correction M survives a crease.

    Pass tokens are Crockford base 32 in capitals, so segno picks QR alphanumeric mode and a
    16-character pass fits a version 1 symbol (21 × 21 modules)."""
    code = segno.make(text, error="m", micro=False)
    out = io.BytesIO()
    code.save(
        out,
        kind="svg",
        xmldecl=False,
        svgns=True,
        nl=False,
        omitsize=True,
        border=4,
        dark="#000",
        title=title or None,
        svgclass=css_class,
    )
    return mark_safe(out.getvalue().decode())
