"""Masking rules for personal identifiers (PIPL): keep the first 3 and the last 4 characters."""


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
