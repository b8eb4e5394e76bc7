"""Who is looking at the residents' pages, without a password.

A household link (card QR or SMS) or a phone number confirmed by an SMS code opens a resident
session. It lives in the Django session under its own key, next to (never instead of) a staff
sign-in, and is checked on every request: a revoked link or a member who left the household
loses access at once.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from django.conf import settings
from django.db import connection
from django.utils.functional import SimpleLazyObject

from shouwang.registry.models import Presence, Resident
from shouwang.residents.models import Consent, HouseholdLink

SESSION_KEY = "_sw_resident"
ELDER_COOKIE = "sw_elder"


@dataclass
class ResidentAccess:
    """`households`: the households the visitor belongs to (a link gives exactly one).
    `phone_index`: set when they proved a phone by SMS code; it also finds their consents."""

    households: list[int]
    phone_index: str = ""
    link_id: int | None = None
    started: int = 0
    proxy_for: list[int] = field(default_factory=list)

    def may_open(self, household_id: int) -> bool:
        return household_id in self.households or household_id in self.proxy_for

    def is_own(self, household_id: int) -> bool:
        return household_id in self.households


def households_of_phone(phone_index: str) -> list[int]:
    if not phone_index:
        return []
    # A raw cursor, not the ORM: every resident page (and every "take a number") asks this.
    with connection.cursor() as c:
        c.execute(
            f"SELECT DISTINCT household_id FROM {Resident._meta.db_table} "
            "WHERE phone_index = %s AND presence <> %s",
            [phone_index, Presence.MOVED_OUT],
        )
        return sorted(r[0] for r in c.fetchall())


# The household a link opens, if the link still works (one parameter: the link's id).
LINK_HOUSEHOLD_SQL = (
    f"SELECT household_id FROM {HouseholdLink._meta.db_table} WHERE id = %s AND revoked_at IS NULL"
)


def _link_household(link_id) -> int | None:
    with connection.cursor() as c:
        c.execute(LINK_HOUSEHOLD_SQL, [link_id])
        row = c.fetchone()
    return row[0] if row else None


_UNREAD = object()


def proxied_households(*, phone_index: str = "", user=None) -> list[int]:
    qs = Consent.objects.filter(revoked_at__isnull=True)
    if user is not None and getattr(user, "is_authenticated", False):
        qs = qs.filter(proxy_user=user)
    elif phone_index:
        qs = qs.filter(proxy_phone_index=phone_index)
    else:
        return []
    return sorted(set(qs.values_list("household_id", flat=True)))


def _begin(request, data: dict) -> None:
    # A new session id: whatever a visitor had before must not carry over (session fixation).
    request.session.cycle_key()
    request.session[SESSION_KEY] = {**data, "at": int(time.time())}
    if not getattr(request, "user", None) or not request.user.is_authenticated:
        request.session.set_expiry(settings.RESIDENT_SESSION_DAYS * 86400)


def begin_with_link(request, link: HouseholdLink) -> None:
    _begin(request, {"link": link.pk, "hh": [link.household_id], "phone": ""})


def begin_with_phone(request, phone_index: str) -> None:
    _begin(request, {"link": None, "hh": households_of_phone(phone_index), "phone": phone_index})


def end(request) -> None:
    request.session.pop(SESSION_KEY, None)


def _load(request) -> ResidentAccess | None:
    data = request.session.get(SESSION_KEY) if hasattr(request, "session") else None
    if not data:
        return None
    acc = resolve(data)
    if acc is None:
        end(request)
    return acc


def resolve(data: dict, *, link_household=_UNREAD) -> ResidentAccess | None:
    """The access a session's resident data still gives (None: expired, the link revoked, or
    the phone no longer in any household and holding no consent). Reads only; the caller ends
    the session (also used without a request by the quick "take a number" path, which passes
    `link_household`: the household the session's link opens, read with its own query)."""
    if time.time() - data.get("at", 0) > settings.RESIDENT_SESSION_DAYS * 86400:
        return None
    if data.get("link"):
        household_id = (
            _link_household(data["link"]) if link_household is _UNREAD else link_household
        )
        if household_id is None:
            return None
        households = [household_id]
    else:
        households = households_of_phone(data.get("phone", ""))
    phone = data.get("phone", "")
    proxy = proxied_households(phone_index=phone) if phone else []
    if not households and not proxy:
        return None
    return ResidentAccess(
        households=households,
        phone_index=phone,
        link_id=data.get("link"),
        started=data.get("at", 0),
        proxy_for=[h for h in proxy if h not in households],
    )


class ResidentAccessMiddleware:
    """`request.resident_access`: a ResidentAccess or None, loaded on first use."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.resident_access = SimpleLazyObject(lambda: _Holder(_load(request)))
        return self.get_response(request)


class _Holder:
    """SimpleLazyObject cannot wrap None: the access (or None) sits in `.value`."""

    def __init__(self, value):
        self.value = value


def current(request) -> ResidentAccess | None:
    holder = getattr(request, "resident_access", None)
    return holder.value if holder is not None else None


def resident_context(request):
    """`elder`: large-font mode, kept in a long-lived cookie so it survives signing in again."""
    return {"elder": request.COOKIES.get(ELDER_COOKIE) == "1"}
