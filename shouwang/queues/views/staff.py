"""Staff pages of the queue: points and sale days, the counter, phone-in and paper tickets, the
tickets list and the grid leader's list of doors to knock on.

Views parse, scope and render; every rule (windows, counts, grace time, versions) is in
services.py and comes back as a DomainError shown on the page."""

from __future__ import annotations

import math

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from shouwang.accounts.models import Role
from shouwang.accounts.permissions import can
from shouwang.accounts.scope import get_scoped, scope_queryset
from shouwang.core.errors import DomainError
from shouwang.core.masking import mask_name_initial
from shouwang.core.views import capability_required
from shouwang.grids.selectors import grids_for
from shouwang.queues import services
from shouwang.queues.forms import DayForm, FindHouseholdForm, IssueForm, PointForm
from shouwang.queues.links import absolute
from shouwang.queues.models import (
    Channel,
    Notify,
    QueueEvent,
    QueuePoint,
    Registration,
    SaleDay,
    Ticket,
)
from shouwang.registry import selectors
from shouwang.registry.models import Compound, Household
from shouwang.residents.otp import otp_phone
from shouwang.residents.qr import qr_svg

TICKET_GRID = "household__building__grid"
PLACE = ("household__building__compound", "household__dwelling__unit", "household__head")
ACTIONS = ("next", "serve_next", "recall", "serve", "skip", "undo")
PAGE_SIZE = 100
STAFF_NOTIFY = dict(IssueForm.NOTIFY_CHOICES)


# --- helpers --------------------------------------------------------------------------------


def _day(request, pk) -> SaleDay:
    return get_scoped(request.user, SaleDay.objects.select_related("point"), pk)


def _ticket(request, pk) -> Ticket:
    """A ticket of the user's community; grid leaders only their grid's households."""
    return get_scoped(
        request.user,
        Ticket.objects.select_related("day__point", *PLACE),
        pk,
        grid_path=TICKET_GRID,
    )


def _int(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def place_of(h: Household) -> str:
    """Compound, building, unit and door: what a volunteer needs to find the household."""
    b = h.building
    unit = h.dwelling.unit.name if h.dwelling.unit_id else ""
    return " ".join(p for p in (b.compound.name, b.name, unit, h.dwelling.door) if p)


def _mark(obj):
    """Attach the masked place and head name that staff pages show (never a full name)."""
    h = obj.household
    obj.place = place_of(h)
    obj.who = mask_name_initial(h.head.name) if h.head_id else ""
    obj.notify_label = STAFF_NOTIFY.get(obj.notify, "")
    return obj


def _links(user) -> dict:
    return {
        "can_manage": can(user, "queue.manage"),
        "can_call": can(user, "queue.call"),
        "can_issue": can(user, "queue.issue"),
        "can_goods": can(user, "queue.goods"),
        "can_knock": can(user, "queue.knock"),
        "can_report": can(user, "queue.report"),
    }


# --- the overview ---------------------------------------------------------------------------


@capability_required("queue.call")
def index(request):
    user = request.user
    today = timezone.localdate()
    days = scope_queryset(user, SaleDay.objects.select_related("point"))
    upcoming = list(days.filter(date__gte=today).order_by("date", "sale_starts_at", "pk")[:30])
    past = list(days.filter(date__lt=today).order_by("-date", "-sale_starts_at", "-pk")[:10])
    for d in upcoming + past:
        d.state = services.day_state(d)
    points = scope_queryset(user, QueuePoint.objects.all())
    return render(
        request,
        "queues/staff/index.html",
        {"upcoming": upcoming, "past": past, "points": points, "today": today, **_links(user)},
    )


# --- points and days ------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@capability_required("queue.manage")
def point_edit(request, pk: int | None = None):
    user = request.user
    point = get_scoped(user, QueuePoint.objects.all(), pk) if pk is not None else None
    form = PointForm(
        request.POST or None,
        initial=PointForm.initial_for(point) if point else None,
        compounds=scope_queryset(user, Compound.objects.all()).order_by("name"),
        buildings=selectors.buildings_for(user).select_related("compound"),
        grids=grids_for(user).order_by("sort", "name"),
    )
    if request.method == "POST" and form.is_valid():
        d = dict(form.cleaned_data)
        try:
            point = services.point_save(
                actor=user,
                point=point,
                compounds=d.pop("compounds"),
                buildings=d.pop("buildings"),
                grids=d.pop("grids"),
                **d,
            )
        except DomainError as e:
            form.add_domain_errors(e)
        except ValidationError as e:
            form.add_domain_errors(
                {k: " ".join(v) for k, v in e.message_dict.items()}
                if hasattr(e, "error_dict")
                else {"__all__": " ".join(e.messages)}
            )
        else:
            messages.success(request, _("The point %(name)s is saved.") % {"name": point.name})
            return redirect("queues:index")
    return render(request, "queues/staff/point_form.html", {"form": form, "point": point})


@require_http_methods(["GET", "POST"])
@capability_required("queue.manage")
def day_edit(request, pk: int | None = None):
    user = request.user
    day = _day(request, pk) if pk is not None else None
    points = scope_queryset(user, QueuePoint.objects.filter(active=True))
    if day is not None:
        initial = DayForm.initial_for(day)
    else:
        initial = DayForm.defaults()
        chosen = _int(request.GET.get("point"))
        if chosen is not None:
            initial["point"] = get_scoped(user, QueuePoint.objects.all(), chosen)
    form = DayForm(request.POST or None, initial=initial, points=points, day=day)
    if request.method == "POST" and form.is_valid():
        try:
            if day is None:
                day = services.day_create(
                    actor=user, point=form.cleaned_data["point"], **form.service_fields()
                )
                messages.success(request, _("The sale day is set up."))
            else:
                day = services.day_update(actor=user, day=day, **form.service_fields())
                messages.success(request, _("The sale day is saved."))
        except DomainError as e:
            form.add_domain_errors(e)
        else:
            return redirect("queues:day", pk=day.pk)
    if day is None and not points.exists():
        messages.warning(request, _("Set up a point (a stall or a shop) first."))
        return redirect("queues:point_new")
    return render(request, "queues/staff/day_form.html", {"form": form, "day": day})


@capability_required("queue.call")
def day_detail(request, pk: int):
    # A due draw runs on the first look, here as on the public pages (docs/decisions/0005).
    day = services.draw_if_due(_day(request, pk))
    return render(
        request,
        "queues/staff/day.html",
        {
            "day": day,
            "state": services.day_state(day),
            "snap": day.snapshot or {},
            "draw_due": services.draw_due(day),
            "now": timezone.now(),
            **_links(request.user),
        },
    )


@require_POST
@capability_required("queue.manage")
def day_close(request, pk: int):
    day = _day(request, pk)
    was_open = day.closed_at is None
    services.day_close(actor=request.user, day=day)
    if was_open:
        messages.success(
            request, _("The day is closed: no more tickets, and nobody else will be called.")
        )
    else:
        messages.info(request, _("The day was already closed."))
    return redirect("queues:day", pk=day.pk)


@require_POST
@capability_required("queue.manage")
def day_draw(request, pk: int):
    day = _day(request, pk)
    try:
        day = services.draw_run(day=day, actor=request.user)
    except DomainError as e:
        messages.error(request, e.message)
    else:
        if day.drawn_at is not None:
            messages.success(
                request,
                _("The draw has run: %(n)d numbers handed out from %(r)d registrations.")
                % {"n": day.issued, "r": day.registered},
            )
    return redirect("queues:day", pk=day.pk)


# --- the counter ----------------------------------------------------------------------------


def _stamp(day: SaleDay) -> str:
    # Taking a ticket moves `issued` without bumping the version: the panel shows both.
    return f"{day.version}-{day.issued}"


def _console_context(request, day: SaleDay) -> dict:
    called = [
        _mark(t)
        for t in Ticket.objects.filter(day=day, status=Ticket.Status.CALLED)
        .select_related(*PLACE)
        .order_by("-called_at", "-pk")
    ]
    now = timezone.now()
    for t in called:
        t.skip_in = max(0, math.ceil((services.skip_allowed_at(day, t) - now).total_seconds()))
    state = services.day_state(day)
    return {
        "day": day,
        "state": state,
        "called": called,
        "no_show": (day.snapshot or {}).get("no_show", 0),
        "stamp": _stamp(day),
        "can_undo": QueueEvent.objects.filter(
            day=day, kind__in=services.UNDOABLE, undone_at__isnull=True
        ).exists(),
    }


def _panel(request, day: SaleDay) -> str:
    return render_to_string(
        "queues/staff/_console_panel.html", _console_context(request, day), request=request
    )


@capability_required("queue.call")
def console(request, pk: int):
    day = _day(request, pk)
    if request.GET.get("fragment"):
        # Polled every few seconds by every phone at the counter: nothing changed, nothing sent.
        if request.GET.get("v") == _stamp(day):
            return HttpResponse(status=204)
        return HttpResponse(_panel(request, day))
    day = services.draw_if_due(day)
    ctx = _console_context(request, day)
    return render(request, "queues/staff/console.html", {**ctx, **_links(request.user)})


def _wants_json(request) -> bool:
    # Browsers' form posts accept */*: only the console's fetch asks for JSON by name.
    return "application/json" in request.headers.get("Accept", "")


def _do(action: str, day: SaleDay, ticket: Ticket | None, user, version) -> str:
    """Run one counter action through the service; the message to show."""
    if action in ("next", "serve_next"):
        t = services.call_next(
            day=day, actor=user, serve_current=action == "serve_next", version=version
        )
        if t is None:
            return _("Nobody is waiting.")
        return _("Number %(n)d is called.") % {"n": t.number}
    if action == "recall":
        t = services.recall(day=day, ticket=ticket, actor=user, version=version)
        return _("Number %(n)d is called again.") % {"n": t.number}
    if action == "serve":
        t = services.serve(day=day, ticket=ticket, actor=user, version=version)
        return _("Number %(n)d is served.") % {"n": t.number}
    if action == "skip":
        t = services.skip(day=day, ticket=ticket, actor=user, version=version)
        if t.status == Ticket.Status.WAITING:
            return _("Number %(n)d goes to the back of the queue.") % {"n": t.number}
        return _("Number %(n)d is a no-show.") % {"n": t.number}
    e = services.undo(day=day, actor=user, version=version)
    what = e.get_kind_display()
    if e.ticket_id:
        return _("Undone: %(what)s, number %(n)d.") % {"what": what, "n": e.ticket.number}
    return _("Undone: %(what)s.") % {"what": what}


@require_POST
@capability_required("queue.call")
def console_action(request, pk: int, action: str):
    as_json = _wants_json(request)
    try:
        day = _day(request, pk)
        if action not in ACTIONS:
            raise DomainError("unknown_action", _("Unknown action."))
        ticket = None
        if request.POST.get("ticket"):
            ticket = get_scoped(
                request.user, Ticket.objects.filter(day=day), request.POST["ticket"]
            )
        version = _int(request.POST.get("version"))
        message = _do(action, day, ticket, request.user, version)
    except DomainError as e:
        if as_json:
            return JsonResponse(e.as_dict(), status=e.status)
        if e.status == 404:
            raise
        messages.error(request, e.message)
        return redirect("queues:console", pk=pk)
    if as_json:
        day = _day(request, pk)
        ctx_day = {"version": day.version, "stamp": _stamp(day), "html": _panel(request, day)}
        return JsonResponse({"ok": True, "message": message, "state": ctx_day})
    messages.success(request, message)
    return redirect("queues:console", pk=pk)


# --- phone-in and desk tickets --------------------------------------------------------------


def _found_households(user, form: FindHouseholdForm) -> list[Household]:
    d = form.cleaned_data
    qs = selectors.households_for(user)
    if d.get("building") or d.get("door"):
        if d.get("building"):
            qs = qs.filter(building=d["building"])
        if d.get("door"):
            qs = qs.filter(dwelling__door__iexact=d["door"].strip())
        order = ("building__compound__name", "building__name", "dwelling__unit__name")
        ids = list(qs.order_by(*order, "dwelling__door", "pk").values_list("pk", flat=True)[:60])
    else:
        ids = []
        for r in selectors.resident_search(user, q=d["q"], limit=60):
            if r.household_id not in ids:
                ids.append(r.household_id)
    rows = {h.pk: h for h in qs.filter(pk__in=ids).with_place().select_related("head")}
    return [rows[i] for i in ids if i in rows]


def _holdings(day: SaleDay, households) -> dict:
    """What each household already has for the day: tickets and a draw registration."""
    ids = [h.pk for h in households]
    out = {i: {"tickets": [], "registration": None} for i in ids}
    for t in Ticket.objects.filter(day=day, household_id__in=ids).order_by("slot"):
        out[t.household_id]["tickets"].append(t)
    for r in Registration.objects.filter(day=day, household_id__in=ids):
        out[r.household_id]["registration"] = r
    return out


def _sms_phone(form: IssueForm, household: Household) -> str:
    """The typed mobile number in E.164, else the household's own contact phone."""
    raw = form.cleaned_data.get("sms_phone", "").strip()
    if not raw and household.contact_phone_enc:
        return household.contact_phone
    try:
        return otp_phone(raw)
    except DomainError as e:
        raise DomainError(e.code, e.message, fields={"sms_phone": e.message}) from None


@require_http_methods(["GET", "POST"])
@capability_required("queue.issue")
def issue(request, pk: int):
    user = request.user
    day = _day(request, pk)
    find = FindHouseholdForm(
        request.GET if ("building" in request.GET or "q" in request.GET) else None,
        buildings=selectors.buildings_for(user).select_related("compound"),
    )
    found = _found_households(user, find) if find.searched() else []
    household_id = request.POST.get("household") or request.GET.get("household")
    household = None
    if household_id:
        household = get_scoped(
            user,
            Household.objects.with_place().select_related("head"),
            household_id,
            grid_path=selectors.HOUSEHOLD_GRID,
        )
    form = None
    if household is not None:
        form = IssueForm(request.POST or None, initial={"household": household.pk})
        if request.method == "POST" and form.is_valid():
            notify = form.cleaned_data["notify"]
            try:
                phone = _sms_phone(form, household) if notify == Notify.SMS else ""
                taken = services.ticket_take(
                    day=day,
                    household=household,
                    channel=Channel.STAFF,
                    actor=user,
                    notify=notify,
                    sms_phone=phone,
                )
            except DomainError as e:
                form.add_domain_errors(e)
            else:
                return _after_take(request, day, household, taken)
    hold = _holdings(day, found + ([household] if household else []))
    for h in found:
        h.holding = hold[h.pk]
        h.who = mask_name_initial(h.head.name) if h.head_id else ""
        h.place = place_of(h)
    chosen = None
    if household is not None:
        household.holding = hold[household.pk]
        household.who = mask_name_initial(household.head.name) if household.head_id else ""
        household.place = place_of(household)
        chosen = household
        reg = household.holding["registration"]
        household.can_take = len(household.holding["tickets"]) < day.per_household and not (
            reg is not None and day.drawn_at is None
        )
        if reg is not None and reg.ticket_id is None:
            url = absolute(reverse("queues:ticket", args=[reg.follow_key]), request)
            reg.url = url
            reg.qr = qr_svg(url, css_class="ticket-qr")
    return render(
        request,
        "queues/staff/issue.html",
        {
            "day": day,
            "find": find,
            "found": found,
            "searched": find.searched(),
            "chosen": chosen,
            "form": form,
            "open_now": day.closed_at is None
            and day.take_opens_at <= timezone.now() < day.take_closes_at,
        },
    )


def _after_take(request, day: SaleDay, household: Household, taken) -> HttpResponse:
    back = reverse("queues:issue", args=[day.pk]) + f"?household={household.pk}"
    if taken.registration is not None:
        r = taken.registration
        if taken.created:
            messages.success(
                request,
                _(
                    "Registered for the draw with code R%(code)d. The draw runs at %(t)s; the "
                    "number (if drawn) follows on the same paper slip and link."
                )
                % {"code": r.code, "t": timezone.localtime(day.draw_at).strftime("%m-%d %H:%M")},
            )
        else:
            messages.warning(
                request,
                _("This household is already registered for the draw (code R%(code)d).")
                % {"code": r.code},
            )
        return redirect(back)
    t = taken.ticket
    if not taken.created:
        messages.warning(
            request,
            _("This household already has number %(n)d for this day. Print it again if needed.")
            % {"n": t.number},
        )
        return redirect(back)
    messages.success(request, _("Number %(n)d is handed out.") % {"n": t.number})
    return redirect(reverse("queues:ticket_print", args=[t.pk]) + "?auto=1")


# --- the day's tickets ----------------------------------------------------------------------


@capability_required("queue.issue")
def tickets(request, pk: int):
    user = request.user
    day = _day(request, pk)
    base = scope_queryset(user, Ticket.objects.filter(day=day), grid_path=TICKET_GRID)
    counts = dict(base.order_by().values_list("status").annotate(n=Count("pk")))
    status = request.GET.get("status", "")
    regs = None
    show_regs = status == "registrations" and day.mode == SaleDay.Mode.DRAW
    if show_regs:
        qs = scope_queryset(
            user, Registration.objects.filter(day=day), grid_path=TICKET_GRID
        ).order_by("code")
    else:
        qs = base.order_by("number")
        if status in Ticket.Status.values:
            qs = qs.filter(status=status)
        else:
            status = ""
    page = Paginator(qs.select_related(*PLACE), PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [_mark(x) for x in page.object_list]
    if show_regs:
        regs, rows = rows, []
    statuses = [
        {"value": v, "label": label, "n": counts.get(v, 0)} for v, label in Ticket.Status.choices
    ]
    return render(
        request,
        "queues/staff/tickets.html",
        {
            "day": day,
            "rows": rows,
            "regs": regs,
            "page": page,
            "status": status,
            "statuses": statuses,
            "total": sum(counts.values()),
            "n_regs": scope_queryset(
                user, Registration.objects.filter(day=day), grid_path=TICKET_GRID
            ).count()
            if day.mode == SaleDay.Mode.DRAW
            else 0,
        },
    )


@capability_required("queue.issue")
def ticket_print(request, pk: int):
    t = _mark(_ticket(request, pk))
    day = t.day
    url = absolute(reverse("queues:ticket", args=[t.follow_key]), request)
    return render(
        request,
        "queues/staff/ticket_print.html",
        {
            "t": t,
            "day": day,
            "point": day.point,
            "url": url,
            "qr": qr_svg(
                url, title=_("Follow number %(n)d") % {"n": t.number}, css_class="ticket-qr"
            ),
            "auto": request.GET.get("auto") == "1",
        },
    )


@require_POST
@capability_required("queue.issue")
def ticket_cancel(request, pk: int):
    t = _ticket(request, pk)
    try:
        services.ticket_cancel(ticket=t, actor=request.user)
    except DomainError as e:
        messages.error(request, e.message)
    else:
        messages.success(request, _("Number %(n)d is given back.") % {"n": t.number})
    return redirect("queues:tickets", pk=t.day_id)


# --- the grid leader's list of doors --------------------------------------------------------


def _grid_of(user):
    return user.grid_id if user.role == Role.GRID_LEADER else None


@capability_required("queue.knock")
def knock(request, pk: int):
    day = _day(request, pk)
    rows = services.knock_list(day, grid_id=_grid_of(request.user))
    for r in rows:
        _mark(r["ticket"])
    return render(
        request,
        "queues/staff/knock.html",
        {
            "day": day,
            "rows": rows,
            "state": services.day_state(day),
            "margin": day.come_when * 2,
            "can_view_household": can(request.user, "ledger.view"),
        },
    )


@require_POST
@capability_required("queue.knock")
def ticket_knocked(request, pk: int):
    t = _ticket(request, pk)
    services.knocked(ticket=t, actor=request.user)
    messages.success(request, _("Number %(n)d: done, they know.") % {"n": t.number})
    return redirect("queues:knock", pk=t.day_id)
