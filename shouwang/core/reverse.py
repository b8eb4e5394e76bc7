"""reverse() for the hot paths: a URL with one argument, filled into a template.

Django's reverse() matches the arguments against every candidate pattern and checks them with
the converters' regexes on every call (≈ 20 µs, a tenth of a refused "take a number" press:
benchmarks/queue_take.py). For a URL name with one argument the answer is the same text with
the argument in its place, so the template is made once by reverse() itself — per URL name,
script prefix and URLconf (the request's, and ROOT_URLCONF), the things reverse() reads — and
filled by string formatting. A value that is not plainly an URL segment (letters, digits, "-",
"_") goes through reverse() as before.
"""

from __future__ import annotations

import re
from functools import lru_cache

from django.conf import settings
from django.urls import get_script_prefix, get_urlconf, reverse

_SLOT = "7319046285"  # stands in for the argument; found once in the reversed path
_PLAIN = re.compile(r"[A-Za-z0-9_-]{1,64}")


@lru_cache(maxsize=64)
def _template(name: str, prefix: str, urlconf, root: str) -> tuple[str, str] | None:
    # `root` (settings.ROOT_URLCONF) keys the cache too: a test may change it.
    url = reverse(name, args=[_SLOT], urlconf=urlconf)
    if url.count(_SLOT) != 1:
        return None
    head, _sep, tail = url.partition(_SLOT)
    return head, tail


def reverse_one(name: str, value: int | str) -> str:
    """reverse(name, args=[value]) for a URL whose one argument accepts `value` (an int, or a
    key of URL-safe characters for a <str:…> argument)."""
    text = str(value)
    template = (
        _template(name, get_script_prefix(), get_urlconf(), settings.ROOT_URLCONF)
        if _PLAIN.fullmatch(text)
        else None
    )
    if template is None:
        return reverse(name, args=[value])
    return template[0] + text + template[1]
