"""The delivery chain's pages (buying.deliver: the office, grid leaders, volunteers): a window's
board with one big button for the next step, the resting countdown and the buildings; the
building page for the building volunteer's phone (doors in order, a tick per door, the pickup
code box — 核销); and the staff's open problems (buying.order) with resolve.

Views parse, scope and render; the rules are in delivery.py and come back as DomainErrors."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from shouwang.accounts.models import Role, User
from shouwang.accounts.permissions import can
from shouwang.checkpoints.models import Checkpoint
from shouwang.core.errors import DomainError
from shouwang.core.views import capability_required
from shouwang.registry.selectors import building_get_for
from shouwang.supplies.buying import delivery, selectors
from shouwang.supplies.buying.models import OrderProblem


def _volunteers(user):
    return list(
        User.objects.filter(
            community_id=user.community_id,
            is_active=True,
            role__in=[Role.VOLUNTEER, Role.GRID_LEADER, Role.STAFF],
        ).order_by("role", "username")[:200]
    )


@require_safe
@capability_required("buying.deliver")
def board(request, pk: int):
    w = selectors.window_get_for(request.user, pk)
    b = delivery.batch_of(w)
    now = timezone.now()
    return render(
        request,
        "buying/delivery/board.html",
        {
            "window": w,
            "state": w.state(now),
            "batch": b,
            "steps": delivery.batch_steps(b),
            "next_step": b.next_step if b is not None else "dispatched",
            "next_action": delivery.STEP_ACTIONS.get(b.next_step if b else "dispatched", ""),
            "resting": b is not None and b.rest_until and not b.released_at and now < b.rest_until,
            "rest_seconds": int((b.rest_until - now).total_seconds())
            if b is not None and b.rest_until and now < b.rest_until
            else 0,
            "buildings": delivery.buildings(w, orders=selectors.orders_for(request.user)),
            "volunteers": _volunteers(request.user),
            "can_manage": can(request.user, "buying.manage"),
            # The community's checkpoints, offered for "arrived at" (free text still allowed).
            "checkpoints": Checkpoint.objects.filter(
                community_id=w.community_id, is_active=True
            ).values_list("name", flat=True),
        },
    )


def _done(request, e: DomainError | None, ok: str) -> None:
    if e is None:
        messages.success(request, ok)
    else:
        messages.error(request, e.message)


@require_POST
@capability_required("buying.deliver")
def step(request, pk: int):
    w = selectors.window_get_for(request.user, pk)
    name = request.POST.get("step", "")
    err = None
    try:
        delivery.batch_step(
            actor=request.user, window=w, step=name, checkpoint=request.POST.get("checkpoint", "")
        )
    except DomainError as e:
        err = e
    _done(request, err, _("Recorded: %(s)s.") % {"s": delivery.STEP_LABELS.get(name, name)})
    return redirect("buying:delivery", pk=w.pk)


@require_POST
@capability_required("buying.manage")
def rest(request, pk: int):
    w = selectors.window_get_for(request.user, pk)
    b = delivery.batch_of(w)
    err = None
    try:
        if b is None:
            raise DomainError("no_batch", _("The batch has not been dispatched yet."))
        delivery.batch_rest_set(actor=request.user, batch=b, minutes=request.POST.get("minutes"))
    except DomainError as e:
        err = e
    _done(request, err, _("Rest changed."))
    return redirect("buying:delivery", pk=w.pk)


@require_POST
@capability_required("buying.deliver")
def building_arrived(request, pk: int, building_pk: int):
    w = selectors.window_get_for(request.user, pk)
    building = building_get_for(request.user, building_pk)
    volunteer = None
    vid = request.POST.get("volunteer")
    if vid:
        volunteer = next((u for u in _volunteers(request.user) if str(u.pk) == vid), None)
    err = None
    try:
        delivery.building_arrived(
            actor=request.user, window=w, building=building, volunteer=volunteer
        )
    except DomainError as e:
        err = e
    _done(request, err, _("%(b)s: the goods are at the building.") % {"b": building.name})
    if request.POST.get("next") == "building":
        return redirect("buying:delivery_building", pk=w.pk, building_pk=building.pk)
    return redirect("buying:delivery", pk=w.pk)


@require_safe
@capability_required("buying.deliver")
def building(request, pk: int, building_pk: int):
    w = selectors.window_get_for(request.user, pk)
    b = building_get_for(request.user, building_pk)
    batch = delivery.batch_of(w)
    bb = batch.buildings.filter(building=b).select_related("volunteer").first() if batch else None
    rows = delivery.doors(w, b.pk)
    return render(
        request,
        "buying/delivery/building.html",
        {
            "window": w,
            "building": b,
            "batch": batch,
            "bb": bb,
            "rows": rows,
            "n_delivered": sum(1 for r in rows if r["order"].delivered_at),
            "n_received": sum(1 for r in rows if r["order"].receipt_at),
            "kinds": OrderProblem.Kind.choices,
        },
    )


def _building_url(order) -> str:
    return (
        reverse("buying:delivery_building", args=[order.window_id, order.household.building_id])
        + f"#o{order.pk}"
    )


@require_POST
@capability_required("buying.deliver")
def delivered(request, pk: int):
    order = selectors.order_get_for(request.user, pk)
    err = None
    try:
        delivery.order_delivered(actor=request.user, order=order)
    except DomainError as e:
        err = e
    _done(request, err, _("Delivered to the door."))
    return redirect(_building_url(order))


@require_POST
@capability_required("buying.deliver")
def confirm_code(request, pk: int):
    w = selectors.window_get_for(request.user, pk)
    try:
        building_id = int(request.POST.get("building") or 0) or None
    except ValueError:
        building_id = None
    try:
        c = delivery.receipt_by_code(
            actor=request.user, window=w, code=request.POST.get("code", ""), building_id=building_id
        )
    except DomainError as e:
        messages.error(request, e.message)
    else:
        o = c.order
        door = o.household.dwelling.door
        if c.first:
            messages.success(
                request, _("Received: door %(d)s, code %(c)s.") % {"d": door, "c": o.pickup_code}
            )
        else:
            messages.info(
                request,
                _("Door %(d)s confirmed its receipt already, at %(t)s.")
                % {"d": door, "t": timezone.localtime(o.receipt_at).strftime("%H:%M")},
            )
    if building_id:
        return redirect("buying:delivery_building", pk=w.pk, building_pk=building_id)
    return redirect("buying:delivery", pk=w.pk)


@require_POST
@capability_required("buying.deliver")
def problem(request, pk: int):
    order = selectors.order_get_for(request.user, pk)
    err = None
    try:
        delivery.problem_report(
            order=order,
            kind=request.POST.get("kind", ""),
            note=request.POST.get("note", ""),
            via=OrderProblem.Via.STAFF,
            actor=request.user,
        )
    except DomainError as e:
        err = e
    _done(request, err, _("Problem reported to the office."))
    return redirect(_building_url(order))


@require_safe
@capability_required("buying.order")
def problems(request):
    rows = delivery.open_problems(selectors.orders_for(request.user))
    return render(request, "buying/delivery/problems.html", {"problems": rows})


@require_POST
@capability_required("buying.order")
def problem_resolve(request, pk: int):
    p = selectors.problem_get_for(request.user, pk)
    delivery.problem_resolve(actor=request.user, problem=p, resolution=request.POST.get("note", ""))
    messages.success(request, _("Resolved."))
    return redirect("buying:problems")


@require_safe
@capability_required("buying.deliver")
def home(request):
    """Windows closed in the last week with where their delivery is: the volunteers' way in."""
    from shouwang.accounts.scope import scope_queryset
    from shouwang.supplies.buying.models import OrderWindow
    from shouwang.supplies.buying.views.merchant import delivery_label

    now = timezone.now()
    windows = list(
        scope_queryset(request.user, OrderWindow.objects.select_related("merchant", "batch"))
        .filter(status__in=["open", "closed"], closes_at__lte=now)
        .filter(closes_at__gte=now - timezone.timedelta(days=7))
        .order_by("-closes_at")[:30]
    )
    for w in windows:
        b = getattr(w, "batch", None)
        w.chain = delivery_label(b) or _("waiting for the merchant")
    return render(request, "buying/delivery/home.html", {"windows": windows})
