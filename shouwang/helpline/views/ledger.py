"""The requests ledger (诉求台账): urgent live requests first for everyone on duty, then the list
with its filters (mine, open, overdue, status, group, grid, reference or phone tail); one
request's page with its log and the buttons of its work — take it, assign it, note, resolve (or
could not), call back with the resident's satisfaction, reopen.

The rules of who may do what live in intake.py (may_work); the views only show the buttons that
will work and turn a refusal into a message on the page."""

from __future__ import annotations

import re

from django.db.models import Count, Q
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from shouwang.accounts.models import Role
from shouwang.accounts.permissions import can
from shouwang.core.views import capability_required, press
from shouwang.helpline import intake, selectors
from shouwang.helpline.models import (
    LIVE,
    URGENT,
    Answer,
    Group,
    Satisfaction,
    Status,
)

LIST_LIMIT = 200
URGENT_LIMIT = 20

SHOWS = (
    ("open", gettext_lazy("Open")),
    ("mine", gettext_lazy("Mine")),
    ("overdue", gettext_lazy("Overdue")),
    ("callback", gettext_lazy("To call back")),
    ("all", gettext_lazy("All")),
)
_REFERENCE = re.compile(r"^R?(\d{4})-(\d+)$", re.IGNORECASE)
_TAIL = re.compile(r"^\d{4}$")


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def search(qs, q: str):
    """A reference ("R1123-42" or "1123-42"), the last four digits of the caller's or the
    resident's phone, a request number, or words of the summary or the caller's name."""
    q = (q or "").strip()
    if not q:
        return qs
    m = _REFERENCE.match(q)
    if m:
        return qs.filter(reference__iexact=f"R{m.group(1)}-{m.group(2)}")
    if _TAIL.match(q):
        return qs.filter(Q(caller_phone_masked__endswith=q) | Q(resident__phone_tail=q))
    if q.isdigit():
        return qs.filter(pk=int(q))
    return qs.filter(Q(summary__icontains=q) | Q(caller_name__icontains=q))


def ledger_rows(user, params, *, now):
    """The filtered ledger and the filters as read (for the form)."""
    qs = selectors.requests_for(user).select_related(
        "category", "owner", "household__dwelling__unit", "household__building", "resident"
    )
    show = params.get("show") or "open"
    if show not in dict(SHOWS):
        show = "open"
    f = {
        "show": show,
        "status": params.get("status") or "",
        "group": params.get("group") or "",
        "grid": _int(params.get("grid")),
        "q": (params.get("q") or "").strip()[:40],
    }
    if show == "open":
        qs = qs.filter(status__in=LIVE)
    elif show == "mine":
        qs = qs.filter(owner=user).exclude(status=Status.CLOSED)
    elif show == "overdue":
        qs = qs.filter(status__in=LIVE, due_at__lt=now)
    elif show == "callback":
        qs = qs.filter(status__in=intake.FINISHED)
    if f["status"] in Status.values:
        qs = qs.filter(status=f["status"])
    if f["group"] in Group.values:
        qs = qs.filter(group=f["group"])
    if f["grid"]:
        qs = qs.filter(household__building__grid_id=f["grid"])
    qs = search(qs, f["q"])
    return qs.order_by("urgency", "due_at", "pk"), f


@capability_required("helpline.take")
def index(request):
    from shouwang.grids.models import Grid

    user = request.user
    now = timezone.now()
    mine = selectors.requests_for(user)
    counts = mine.aggregate(
        open=Count("pk", filter=Q(status__in=LIVE)),
        overdue=Count("pk", filter=Q(status__in=LIVE, due_at__lt=now)),
        mine=Count("pk", filter=Q(status__in=LIVE, owner=user)),
        callback=Count("pk", filter=Q(status__in=intake.FINISHED)),
    )
    urgent = list(
        mine.filter(status__in=LIVE, urgency__in=URGENT)
        .select_related("category", "owner")
        .order_by("urgency", "due_at", "pk")[:URGENT_LIMIT]
    )
    qs, f = ledger_rows(user, request.GET, now=now)
    total = qs.count()
    rows = list(qs[:LIST_LIMIT])
    grids = []
    if user.role != Role.GRID_LEADER:
        grids = list(Grid.objects.filter(community_id=user.community_id).order_by("name"))
    return render(
        request,
        "helpline/index.html",
        {
            "urgent": urgent,
            "can_stats": can(request.user, "helpline.stats"),
            "rows": rows,
            "total": total,
            "limit": LIST_LIMIT,
            "counts": counts,
            "f": f,
            "shows": SHOWS,
            "statuses": Status.choices,
            "groups": Group.choices,
            "grids": grids,
            "now": now,
        },
    )


# --- one request ------------------------------------------------------------------------------


def _events(req, details: bool):
    """The log, with the texts that may carry health details left out for those who may not
    read them."""
    out = []
    for e in req.events.select_related("by", "from_user", "to_user"):
        e.hidden = selectors.event_text_hidden(e, details)
        out.append(e)
    return out


@capability_required("helpline.take")
def request_page(request, pk: int):
    user = request.user
    req = selectors.request_for(user, pk)
    details = selectors.may_see_details(user, req)
    work = intake.may_work(user, req)
    now = timezone.now()
    answers = []
    if work and req.is_live:
        answers = list(
            Answer.objects.filter(community_id=req.community_id, is_active=True).order_by(
                "-quoted", "question"
            )[:100]
        )
    return render(
        request,
        "helpline/request.html",
        {
            "req": req,
            "details": details,
            "events": _events(req, details),
            "may_work": work,
            "is_owner": req.owner_id == user.pk,
            "finished": req.status in intake.FINISHED,
            "overdue": req.is_live and req.due_at < now,
            "duty": list(selectors.duty_users(req.community_id)) if work and req.is_live else [],
            "satisfactions": Satisfaction.choices,
            "answers": answers,
            # The owner calls back: the number in full for those who work the request, each
            # showing logged as a reveal is (PIPL: every full view with who, when and why).
            "caller_phone": intake.caller_phone(user, req),
            "members": list(req.household.members.living_here()) if req.household_id else [],
            "now": now,
        },
    )


def _act(request, req, fn, ok, **kwargs):
    """Run a service on the request (core.views.press), then back to its page."""
    press(request, fn, ok, request.user, req, **kwargs)
    return redirect(reverse("helpline:request", args=[req.pk]))


@require_POST
@capability_required("helpline.take")
def request_assign(request, pk: int):
    from shouwang.accounts.models import User

    owner_id = _int(request.POST.get("owner"))
    req = selectors.request_for(request.user, pk)
    owner = (
        User.objects.filter(pk=owner_id, community_id=req.community_id).first()
        if owner_id
        else None
    )
    name = owner.label if owner else ""
    return _act(
        request,
        req,
        intake.assign,
        _("Assigned to %(name)s.") % {"name": name},
        owner=owner,
        text=request.POST.get("text", ""),
    )


@require_POST
@capability_required("helpline.take")
def request_start(request, pk: int):
    return _act(request, selectors.request_for(request.user, pk), intake.start, _("You are on it."))


@require_POST
@capability_required("helpline.take")
def request_note(request, pk: int):
    return _act(
        request,
        selectors.request_for(request.user, pk),
        intake.note,
        _("Note added."),
        text=request.POST.get("text", ""),
    )


@require_POST
@capability_required("helpline.take")
def request_resolve(request, pk: int):
    req = selectors.request_for(request.user, pk)
    answer_id = _int(request.POST.get("answer"))
    answer = (
        Answer.objects.filter(pk=answer_id, community_id=req.community_id).first()
        if answer_id
        else None
    )
    resolved = request.POST.get("outcome", "resolved") != "unresolved"
    return _act(
        request,
        req,
        intake.resolve,
        _("Resolved: now call the resident back.")
        if resolved
        else _("Marked as could not be resolved: call the resident back."),
        resolution=request.POST.get("resolution", ""),
        resolved=resolved,
        answer=answer,
    )


@require_POST
@capability_required("helpline.take")
def request_callback(request, pk: int):
    return _act(
        request,
        selectors.request_for(request.user, pk),
        intake.callback,
        _("Called back: the request is closed."),
        satisfaction=request.POST.get("satisfaction", ""),
        text=request.POST.get("note", ""),
    )


@require_POST
@capability_required("helpline.take")
def request_reopen(request, pk: int):
    return _act(
        request,
        selectors.request_for(request.user, pk),
        intake.reopen,
        _("Reopened."),
        reason=request.POST.get("reason", ""),
    )


urlpatterns = [
    path("helpline/", index, name="index"),
    path("helpline/requests/<int:pk>/", request_page, name="request"),
    path("helpline/requests/<int:pk>/assign/", request_assign, name="request_assign"),
    path("helpline/requests/<int:pk>/start/", request_start, name="request_start"),
    path("helpline/requests/<int:pk>/note/", request_note, name="request_note"),
    path("helpline/requests/<int:pk>/resolve/", request_resolve, name="request_resolve"),
    path("helpline/requests/<int:pk>/callback/", request_callback, name="request_callback"),
    path("helpline/requests/<int:pk>/reopen/", request_reopen, name="request_reopen"),
]
