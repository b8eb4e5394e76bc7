"""The residents' and the public side of the queue.

Taking and giving back a number from the household page (the household's own session, or
someone holding its consent), and the pages without a sign-in: the ticket page, the day's public
page, the big-screen board, the poster and the draw record. On those the unguessable key in the
address is the only secret, and they show numbers only — never a name, a door or a phone.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from shouwang.core.errors import DomainError
from shouwang.core.reverse import reverse_one
from shouwang.queues import links, services
from shouwang.queues.models import Channel, Notify, Registration, SaleDay, Ticket
from shouwang.queues.sections import goods_light
from shouwang.registry.models import Household, Resident
from shouwang.residents import services as resident_services
from shouwang.residents.access import current as resident_access
from shouwang.residents.models import DirectoryEntry, DirectoryKind
from shouwang.residents.qr import qr_svg
from shouwang.residents.views.resident import _viewer

# Keys are short random strings; anything longer is not one of ours (no query for it).
MAX_KEY = 32
MAX_NUMBER = 100_000
ACTIVE = (Ticket.Status.WAITING, Ticket.Status.CALLED)


def _hhmm(value) -> str:
    return timezone.localtime(value).strftime("%H:%M") if value else ""


# --- taking a number from the household page ----------------------------------------------


def _household_url(hh: int) -> str:
    return reverse_one("residents:my_household", hh) + "#queue"


def _acting_user(request):
    return request.user if request.user.is_authenticated else None


def _authorize(request, hh: int, consent, resident_id: int | None):
    """The consent a proxy acts under (whole household, or the member concerned)."""
    acc = resident_access(request)
    return resident_services.behalf_authorize(
        household_id=hh,
        resident_id=resident_id if resident_id is not None else consent.resident_id,
        user=_acting_user(request),
        phone_index=acc.phone_index if acc is not None else "",
    )


def parse_notify(raw: str, resident_raw: str) -> tuple[str, int | None]:
    """'sms:<resident id>' (or notify=sms with resident=<id>), 'knock' or 'page'."""
    notify, _sep, rid = (raw or "").partition(":")
    if notify == Notify.SMS:
        try:
            return Notify.SMS, int(rid or resident_raw)
        except (TypeError, ValueError):
            return Notify.SMS, None
    return notify, None


def _taken_message(taken: services.Taken, day: SaleDay) -> str:
    if taken.registration is not None:
        r = taken.registration
        if taken.created:
            return _(
                "You are registered for the draw with code R%(code)d. The draw is at %(t)s: "
                "this page will show your number then."
            ) % {"code": r.code, "t": _hhmm(day.draw_at)}
        return _("You are already registered for the draw (code R%(code)d).") % {"code": r.code}
    t = taken.ticket
    if taken.created:
        return _("Your number is %(n)d. Stay at home: this page tells you when to come.") % {
            "n": t.number
        }
    return _("You already have number %(n)d.") % {"n": t.number}


def sms_phone(hh: int, resident_id: int | None) -> str:
    """The mobile number of the member picked for the text — from the ledger, never from the
    form (a visitor picks a member); DomainError when that is not a member with a mobile
    phone."""
    member = (
        Resident.objects.living_here().filter(pk=resident_id, household_id=hh).first()
        if resident_id
        else None
    )
    if member is None or not member.phone_enc:
        raise DomainError(
            "no_sms_member",
            _("Choose a member of this household with a mobile phone for the text."),
        )
    return member.phone


def take_answer(hh: int, day: SaleDay, taken=None, error: DomainError | None = None):
    """(message level, message, where to go) after a press on "take a number": the ticket page,
    or back to the household page saying why not. Shared by `take` and the quick path
    (queues/quick.py), which answer the same press alike."""
    if error is not None:
        return messages.ERROR, error.message, _household_url(hh)
    return (
        messages.SUCCESS,
        _taken_message(taken, day),
        reverse_one("queues:ticket", taken.follow_key),
    )


@require_POST
def take(request, hh: int, pk: int):
    is_own, consent = _viewer(request, hh)
    # get(), not first(): a primary-key lookup needs no ORDER BY (first() compiles the models'
    # default ordering on every press).
    household = get_object_or_404(Household.objects.select_related("building"), pk=hh)
    day = get_object_or_404(
        SaleDay.objects.select_related("point"), pk=pk, community_id=household.community_id
    )
    notify, resident_id = parse_notify(request.POST.get("notify", ""), request.POST.get("resident"))
    try:
        phone = sms_phone(hh, resident_id) if notify == Notify.SMS else ""
        if is_own:
            kwargs = {"channel": Channel.HOUSEHOLD}
        else:
            acting = _authorize(request, hh, consent, resident_id)
            kwargs = {
                "channel": Channel.PROXY,
                "consent": acting,
                "actor": _acting_user(request),
            }
        taken = services.ticket_take(
            day=day, household=household, notify=notify, sms_phone=phone, **kwargs
        )
    except DomainError as e:
        level, text, to = take_answer(hh, day, error=e)
    else:
        level, text, to = take_answer(hh, day, taken)
    messages.add_message(request, level, text)
    return redirect(to)


@require_POST
def cancel(request, hh: int, pk: int):
    is_own, consent = _viewer(request, hh)
    ticket = Ticket.objects.select_related("day__point").filter(pk=pk, household_id=hh).first()
    if ticket is None:
        raise Http404
    try:
        acting = None if is_own else _authorize(request, hh, consent, None)
        t = services.ticket_cancel(ticket=ticket, actor=_acting_user(request), consent=acting)
    except DomainError as e:
        messages.error(request, e.message)
    else:
        messages.success(request, _("Number %(n)d was given back.") % {"n": t.number})
    return redirect(_household_url(hh))


# --- shared by the public pages -------------------------------------------------------------


def _due(day: SaleDay) -> SaleDay:
    """Run a draw whose registration has closed (the first visitor after draw_at runs it)."""
    d = services.draw_if_due(day)
    if d is not day:
        d = SaleDay.objects.select_related("point").get(pk=d.pk)
    return d


def _day_or_404(key: str) -> SaleDay:
    if len(key) > MAX_KEY:
        raise Http404
    day = SaleDay.objects.select_related("point").filter(public_key=key).first()
    if day is None:
        raise Http404
    return _due(day)


def _number(raw) -> int | None:
    try:
        n = int(str(raw).strip())
    except (TypeError, ValueError):
        return None
    return n if 1 <= n <= MAX_NUMBER else None


def _no_store(resp):
    resp["Cache-Control"] = "no-store"
    return resp


def _goods(day: SaleDay) -> list:
    return list(goods_light().filter(day=day))


def _goods_fragment(request, day: SaleDay, template: str):
    html = render_to_string(template, {"goods": _goods(day), "day": day}, request=request)
    return _no_store(HttpResponse(html))


def _live(request, day: SaleDay, state: dict, number: int | None, state_url: str) -> dict:
    """What queue-live.js needs: where the stream and the polling fallback are, and its words."""
    return {
        "state": state,
        "stream_url": links.stream_url(request, day.public_key, number),
        "state_url": state_url,
        "live_strings": {
            "live": _("Live"),
            "poll": _("Updating every 5 s"),
            "connecting": _("Connecting…"),
            "offline": _("No connection — trying again"),
            "come_now": _("Come now"),
            "alerts_on": _("Sound and vibration on"),
            "alerts_off": _("Allow sound and vibration"),
        },
    }


def _times(day: SaleDay) -> dict:
    return {
        "sale_from": _hhmm(day.sale_starts_at),
        "sale_to": _hhmm(day.sale_ends_at),
        "draw_at": _hhmm(day.draw_at),
        "take_from": timezone.localtime(day.take_opens_at),
        "take_to": timezone.localtime(day.take_closes_at),
    }


def _first_come_open(day: SaleDay, now=None) -> bool:
    now = now or timezone.now()
    return (
        day.closed_at is None
        and day.take_opens_at <= now < day.take_closes_at
        and day.left > 0
        and not (day.mode == SaleDay.Mode.DRAW and day.drawn_at is None)
    )


# --- the ticket page ------------------------------------------------------------------------


def _follow(key: str) -> tuple[SaleDay, Ticket | None, Registration | None]:
    """The ticket (or, in draw mode, the registration) behind a follow key."""
    if len(key) > MAX_KEY:
        raise Http404
    t = Ticket.objects.select_related("day__point").filter(follow_key=key).first()
    if t is not None:
        return _due(t.day), t, None
    r = Registration.objects.select_related("day__point").filter(follow_key=key).first()
    if r is None:
        raise Http404
    day = _due(r.day)
    if day.drawn_at is not None and r.won is None:
        # The draw ran on this request: a winner's ticket took over the registration's key.
        r.refresh_from_db()
        t = Ticket.objects.filter(follow_key=key).first()
        if t is not None:
            return day, t, None
    return day, None, r


def _ticket_number(t: Ticket | None) -> int | None:
    return t.number if t is not None and t.status in ACTIVE else None


@require_GET
@never_cache
def ticket(request, key: str):
    day, t, reg = _follow(key)
    if request.GET.get("fragment") == "goods":
        return _goods_fragment(request, day, "queues/public/_goods.html")
    number = _ticket_number(t)
    state = services.day_state(day, number)
    if t is not None:
        status = t.status
    elif day.drawn_at is None:
        status = "registered"
    else:
        status = "not_drawn"
    ctx = {
        "day": day,
        "ticket": t,
        "registration": reg,
        "status": status,
        "number": number,
        "goods": _goods(day),
        "public_url": reverse("queues:public", args=[day.public_key]),
        "first_come_open": _first_come_open(day),
        # Before the draw the page reloads itself once the draw is due (plus a little jitter
        # in the script, so a thousand phones do not all arrive in the same second).
        "reload_at": day.draw_at.isoformat() if status == "registered" else "",
        **_times(day),
        **_live(request, day, state, number, reverse("queues:ticket_state", args=[key])),
    }
    return render(request, "queues/public/ticket.html", ctx)


@require_GET
def ticket_state(request, key: str):
    day, t, _reg = _follow(key)
    return _no_store(JsonResponse(services.day_state(day, _ticket_number(t))))


# --- the day's public page, board and poster ------------------------------------------------


@require_GET
@never_cache
def day(request, key: str):
    d = _day_or_404(key)
    if request.GET.get("fragment") == "goods":
        return _goods_fragment(request, d, "queues/public/_goods.html")
    number = _number(request.GET.get("n")) if request.GET.get("n") else None
    state = services.day_state(d, number)
    state_url = reverse("queues:public_state", args=[key])
    if number is not None:
        state_url += f"?n={number}"
    ctx = {
        "day": d,
        "number": number,
        "bad_number": bool(request.GET.get("n")) and number is None,
        "goods": _goods(d),
        "first_come_open": _first_come_open(d),
        "reload_at": d.draw_at.isoformat() if d.mode == "draw" and not d.drawn_at else "",
        **_times(d),
        **_live(request, d, state, number, state_url),
    }
    return render(request, "queues/public/day.html", ctx)


@require_GET
def day_state(request, key: str):
    d = _day_or_404(key)
    return _no_store(JsonResponse(services.day_state(d, _number(request.GET.get("n")))))


@require_GET
@never_cache
def board(request, key: str):
    d = _day_or_404(key)
    if request.GET.get("fragment") == "goods":
        return _goods_fragment(request, d, "queues/public/_board_goods.html")
    state = services.day_state(d)
    public = links.absolute(reverse("queues:public", args=[key]), request)
    ctx = {
        "day": d,
        "goods": _goods(d),
        "qr": qr_svg(public, title=_("Scan to follow the queue")),
        "public_abs": public,
        "now": timezone.localtime(),
        **_times(d),
        **_live(request, d, state, None, reverse("queues:public_state", args=[key])),
    }
    return render(request, "queues/public/board.html", ctx)


def committee_phone(community_id: int) -> str:
    """The committee's number from the service directory, as the printed cards use it."""
    e = DirectoryEntry.objects.filter(
        community_id=community_id, kind=DirectoryKind.COMMITTEE
    ).first()
    return e.phone if e is not None else ""


@require_GET
def poster(request, key: str):
    d = _day_or_404(key)
    public = links.absolute(reverse("queues:public", args=[key]), request)
    ctx = {
        "day": d,
        "qr": qr_svg(public, title=_("Scan to follow the queue")),
        "public_abs": public,
        "committee_phone": committee_phone(d.community_id),
        **_times(d),
    }
    return render(request, "queues/public/poster.html", ctx)


# --- the draw record ------------------------------------------------------------------------


def _draw_day(key: str) -> SaleDay:
    d = _day_or_404(key)
    if d.mode != SaleDay.Mode.DRAW:
        raise Http404
    return d


def _draw_rows(d: SaleDay) -> tuple[list[int], list[dict]]:
    """The registration codes, and after the draw the order each code came in with its
    number. Codes only: the published record never names a household."""
    regs = list(
        Registration.objects.filter(day=d).order_by("code").values_list("code", "ticket__number")
    )
    codes = [c for c, _n in regs]
    if d.drawn_at is None:
        return codes, []
    numbers = dict(regs)
    rows = []
    for place, code in enumerate(services.draw_order(d.draw_seed, codes), start=1):
        rows.append(
            {
                "place": place,
                "code": code,
                "key": services.draw_key(d.draw_seed, code),
                "won": place <= d.tickets_total,
                "number": numbers.get(code),
            }
        )
    return codes, rows


def shell_command(d: SaleDay, filename: str = "draw.txt") -> str:
    """One line of POSIX shell that re-runs the draw from the published file."""
    return (
        f"SEED=$(sed -n 's/^seed: //p' {filename}); "
        f"grep -E '^[0-9]+$' {filename} | while read c; do "
        'printf \'%s %s\\n\' "$(printf \'%s:%s\' "$SEED" "$c" | sha256sum | cut -c1-64)" "$c"; '
        f"done | LC_ALL=C sort | head -n {d.tickets_total} | awk '{{print NR, \"R\" $2}}'"
    )


def draw_text(d: SaleDay) -> str:
    """draw.txt: "name: value" lines, comments starting with #, then one code per line (the
    only lines that are a bare number), so the shell command reads it as it is."""
    codes, rows = _draw_rows(d)
    lines = [
        "# "
        + _("Shouwang queue: the draw for %(point)s on %(date)s")
        % {"point": d.point.name, "date": d.date.isoformat()},
        f"draw at: {timezone.localtime(d.draw_at).isoformat(timespec='minutes')}",
        f"tickets: {d.tickets_total}",
        f"registrations: {len(codes)}",
        f"seed sha256: {d.draw_seed_hash}",
    ]
    if d.drawn_at is None:
        lines += [
            "seed: ",
            "# "
            + _(
                "The seed is published when the draw runs. It is fixed already, and its SHA-256 "
                "above was published first, so nobody can choose it after seeing the list."
            ),
        ]
    else:
        lines += [
            f"seed: {d.draw_seed}",
            "# " + _("Check the seed against the hash published before the draw:"),
            "#   printf '%s' SEED | sha256sum",
            "# "
            + _(
                'Each code\'s key is the SHA-256 of "<seed>:<code>". Sorted from the smallest key, '
                "the first %(n)d codes get numbers 1, 2, 3 … in that order."
            )
            % {"n": d.tickets_total},
            "# "
            + _(
                "To re-run it, save this file as draw.txt and run this line (it prints the number "
                "and the code; on a Mac, use 'shasum -a 256' for sha256sum):"
            ),
            "#   " + shell_command(d),
            "",
            "# " + _("Result (number, code):"),
        ]
        lines += [f"# {r['place']} R{r['code']}" for r in rows if r["won"]]
    lines += ["", "# " + _("Registration codes, in the order of asking:")]
    lines += [str(c) for c in codes]
    return "\n".join(lines) + "\n"


def _draw_ctx(request, d: SaleDay) -> dict:
    codes, rows = _draw_rows(d)
    return {
        "day": d,
        "codes": codes,
        "rows": rows,
        "winners": sum(1 for r in rows if r["won"]),
        "command": shell_command(d),
        "public_url": reverse("queues:public", args=[d.public_key]),
        "generated": timezone.localtime(),
        **_times(d),
    }


@require_GET
def draw(request, key: str):
    d = _draw_day(key)
    return render(request, "queues/public/draw.html", _draw_ctx(request, d))


@require_GET
def draw_txt(request, key: str):
    d = _draw_day(key)
    resp = HttpResponse(draw_text(d), content_type="text/plain; charset=utf-8")
    resp["Content-Disposition"] = 'inline; filename="draw.txt"'
    # Before the draw the list grows; afterwards the record never changes.
    resp["Cache-Control"] = "public, max-age=300" if d.drawn_at else "no-cache"
    return resp
