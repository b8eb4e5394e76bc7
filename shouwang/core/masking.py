"""Masking rules for personal identifiers (PIPL): keep the first 3 and the last 4 characters."""

import re
import unicodedata


def mask_middle(value: str, *, head: int = 3, tail: int = 4) -> str:
    if not value:
        return ""
    if len(value) <= head + tail:
        # Too short to keep both ends and still hide something: keep only the tail.
        keep = min(tail, max(len(value) - 2, 0))
        return "*" * (len(value) - keep) + value[len(value) - keep :]
    return value[:head] + "*" * (len(value) - head - tail) + value[-tail:]


def mask_phone(e164: str) -> str:
    """+8613912345678 is shown as 139****5678."""
    national = e164[3:] if e164.startswith("+86") else e164
    return mask_middle(national)


def mask_name(name: str) -> str:
    """Surname plus a mask, for printed and public material: 张三丰 → 张**."""
    if not name:
        return ""
    return name[0] + "*" * max(len(name) - 1, 1)


# Two-character surnames: for these the surname is kept whole (欧阳娜娜 → 欧阳娜*).
COMPOUND_SURNAMES = frozenset(
    "欧阳 司马 诸葛 上官 东方 皇甫 尉迟 公孙 慕容 长孙 宇文 司徒 夏侯 令狐 "
    "端木 西门 南宫 独孤 轩辕 澹台 呼延 申屠 太史 闻人 万俟 钟离 赫连 百里".split()
)
_NAME_DOTS = "·•‧・"  # the middle dots of transcribed names (买买提·艾力)


def _is_han(ch: str) -> bool:
    return unicodedata.name(ch, "").startswith(("CJK UNIFIED", "CJK COMPATIBILITY IDEOGRAPH"))


def mask_name_initial(name: str) -> str:
    """Surname plus the first character of the given name, for printed cards.

    王小明 → 王小*, 李四 → 李* (a two-character name keeps only the surname, or nothing would be
    hidden), 欧阳娜娜 → 欧阳娜*. Names in Latin script keep the first word and the initials of
    the others: John Smith → John S. Names written with a middle dot (买买提·艾力) keep the first
    part and the first character of the others: 买买提·艾*.
    """
    text = " ".join((name or "").split())
    if not text:
        return ""
    if any(d in text for d in _NAME_DOTS):
        parts = [p.strip() for p in re.split(f"[{_NAME_DOTS}]", text) if p.strip()]
        if len(parts) > 1:
            return "·".join([parts[0]] + [p[0] + "*" * (len(p) - 1 or 1) for p in parts[1:]])
        text = parts[0] if parts else ""
        if not text:
            return ""
    bare = text.replace(" ", "")
    if all(_is_han(ch) for ch in bare):
        surname = 2 if bare[:2] in COMPOUND_SURNAMES and len(bare) > 2 else 1
        given = bare[surname:]
        if len(given) <= 1:
            return bare[:surname] + "*"
        return bare[:surname] + given[0] + "*" * (len(given) - 1)
    words = text.split(" ")
    if len(words) == 1:
        return words[0][0] + "."
    return " ".join([words[0]] + [w[0] + "." for w in words[1:]])
