"""Relief's pages: batches, the preview, issuing and the recount (the office); per-grid
distribution lists, the print and Excel versions, the phone page where grid teams record each
door, and the undelivered list (grid leaders: their grid only).

Views parse, scope and render; the rules are in services.py and selectors.py."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from shouwang.accounts.models import Role
from shouwang.accounts.permissions import can
from shouwang.accounts.scope import scope_queryset
from shouwang.control import levels
from shouwang.core.errors import DomainError, NotFound
from shouwang.core.views import capability_required
from shouwang.grids.selectors import grid_get_for, grids_for
from shouwang.registry.models import CareTag, Compound
from shouwang.supplies.relief import selectors, services
from shouwang.supplies.relief.export import grid_export as export_grid
from shouwang.supplies.relief.forms import BatchForm, FollowUpForm, RecordForm
from shouwang.supplies.relief.models import ReliefAllocation, ReliefBatch, Scope

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
NO_GRID = 0  # buildings not in any grid: their list is under grid "0" (office only)


def _links(user) -> dict:
    return {"can_manage": can(user, "relief.manage"), "can_deliver": can(user, "relief.deliver")}


def _grid(request, pk):
    """The grid of a distribution list; 0 is the buildings without a grid (not for grid
    leaders, who only ever see their own grid)."""
    if str(pk) == str(NO_GRID):
        if request.user.role == Role.GRID_LEADER:
            raise NotFound("not_found", _("Not found, or not in your community or grid."))
        return None
    return grid_get_for(request.user, pk)


def _rule(batch: ReliefBatch) -> dict:
    """What templates/relief/_rule.html shows: the extras by tag name, the scope's names."""
    labels = {t.value: str(t.label) for t in CareTag}
    extras = [(labels.get(tag, str(tag)), extra) for tag, extra in sorted(batch.extras().items())]
    if batch.scope == Scope.COMPOUNDS:
        names = [c.name for c in batch.compounds.all()]
    elif batch.scope == Scope.GRIDS:
        names = [g.name for g in batch.grids.all()]
    elif batch.scope == Scope.CONTROL:
        names = [levels.label(v) for v in levels.parse(batch.control_levels)]
    else:
        names = []
    return {"extras": extras, "scope_names": names}


def _issued(batch: ReliefBatch) -> None:
    if batch.status == ReliefBatch.Status.DRAFT:
        raise NotFound("relief_draft", _("This batch is not issued yet: it has no lists."))


# --- batches --------------------------------------------------------------------------------


@capability_required("relief.deliver")
def index(request):
    user = request.user
    batches = list(selectors.batches_for(user)[:50])
    return render(request, "relief/index.html", {"batches": batches, **_links(user)})


@require_http_methods(["GET", "POST"])
@capability_required("relief.manage")
def batch_edit(request, pk: int | None = None):
    user = request.user
    batch = selectors.batch_get_for(user, pk) if pk is not None else None
    if batch is not None:
        initial = BatchForm.initial_for(batch)
    else:
        threshold = user.community.large_household_threshold if user.community_id else 6
        initial = {
            "large_threshold": threshold,
            "per_household": 1,
            "large_portions": 2,
            "scope": "community",
        }
    form = BatchForm(
        request.POST or None,
        initial=initial,
        compounds=scope_queryset(user, Compound.objects.all()).order_by("name"),
        grids=grids_for(user).order_by("sort", "name"),
    )
    if request.method == "POST" and form.is_valid():
        try:
            batch = services.batch_save(
                actor=user, community=user.community, batch=batch, **form.service_fields()
            )
        except DomainError as e:
            form.add_domain_errors(e)
        else:
            messages.success(request, _("The batch %(title)s is saved.") % {"title": batch.title})
            if batch.status == ReliefBatch.Status.DRAFT:
                return redirect("relief:preview", pk=batch.pk)
            return redirect("relief:batch", pk=batch.pk)
    return render(request, "relief/batch_form.html", {"form": form, "batch": batch})


@capability_required("relief.deliver")
def batch_detail(request, pk: int):
    user = request.user
    batch = selectors.batch_get_for(user, pk)
    progress = selectors.grid_progress(user, batch)
    totals = {
        k: sum(r[k] or 0 for r in progress)
        for k in (
            "households",
            "portions",
            "delivered",
            "delivered_portions",
            "not_home",
            "refused",
            "pending",
        )
    }
    return render(
        request,
        "relief/batch.html",
        {
            "batch": batch,
            "progress": progress,
            "totals": totals,
            "issued_portions": selectors.issued_portions(batch)
            if can(user, "relief.manage")
            else None,
            **_rule(batch),
            **_links(user),
        },
    )


@capability_required("relief.manage")
def preview(request, pk: int):
    batch = selectors.batch_get_for(request.user, pk)
    p = selectors.preview(batch)
    return render(
        request,
        "relief/preview.html",
        {"batch": batch, "p": p, **_rule(batch), **_links(request.user)},
    )


@require_POST
@capability_required("relief.manage")
def issue(request, pk: int):
    batch = selectors.batch_get_for(request.user, pk)
    try:
        result = services.batch_issue(
            actor=request.user, batch=batch, partial=request.POST.get("partial") == "1"
        )
    except DomainError as e:
        messages.error(request, e.message)
        return redirect("relief:preview", pk=batch.pk)
    if result.already:
        messages.info(request, _("This batch was already issued: nothing more was done."))
    else:
        msg = _("Issued: %(h)s households, %(p)s portions.") % {
            "h": result.created,
            "p": result.portions,
        }
        if result.left_out:
            msg += " " + _(
                "%(n)s households are left out until more portions arrive (see the recount)."
            ) % {"n": result.left_out}
        messages.success(request, msg)
    return redirect("relief:batch", pk=batch.pk)


@capability_required("relief.manage")
def recount(request, pk: int):
    batch = selectors.batch_get_for(request.user, pk)
    _issued(batch)
    r = selectors.recount(batch)
    return render(request, "relief/recount.html", {"batch": batch, "r": r, **_rule(batch)})


@require_POST
@capability_required("relief.manage")
def recount_issue(request, pk: int):
    batch = selectors.batch_get_for(request.user, pk)
    try:
        result = services.recount_issue(
            actor=request.user, batch=batch, partial=request.POST.get("partial") == "1"
        )
    except DomainError as e:
        messages.error(request, e.message)
        return redirect("relief:recount", pk=batch.pk)
    if result.already:
        messages.info(request, _("Nothing has changed since the last count."))
    else:
        messages.success(
            request,
            _("Difference issued: %(new)s new households, %(changed)s changed, %(p)s portions.")
            % {"new": result.created, "changed": result.changed, "p": result.portions},
        )
    return redirect("relief:batch", pk=batch.pk)


@require_POST
@capability_required("relief.manage")
def close(request, pk: int):
    batch = selectors.batch_get_for(request.user, pk)
    services.batch_close(actor=request.user, batch=batch)
    messages.success(request, _("The batch is closed."))
    return redirect("relief:batch", pk=batch.pk)


# --- a grid's list ----------------------------------------------------------------------------


def _grid_context(request, pk, grid_pk) -> dict:
    batch = selectors.batch_get_for(request.user, pk)
    _issued(batch)
    grid = _grid(request, grid_pk)
    rows = list(selectors.grid_list(batch, grid.pk if grid else None))
    return {
        "batch": batch,
        "grid": grid,
        "grid_pk": grid.pk if grid else NO_GRID,
        "grid_name": grid.name if grid else _("No grid"),
        "rows": rows,
        "portions": sum(a.portions for a in rows),
        "done": sum(a.status == ReliefAllocation.Status.DELIVERED for a in rows),
    }


def _by_building(rows):
    groups: list[dict] = []
    for a in rows:
        if not groups or groups[-1]["building"].pk != a.building_id:
            groups.append({"building": a.building, "rows": [], "portions": 0})
        groups[-1]["rows"].append(a)
        groups[-1]["portions"] += a.portions
    return groups


def _view_params(data) -> dict[str, str]:
    """The grid page's own view of its list (one building, only the doors still to do), kept
    across a tick: a team on foot works one building at a time."""
    out = {}
    building = data.get("building", "")
    if building.isdigit():
        out["building"] = building
    if data.get("todo") == "1":
        out["todo"] = "1"
    return out


@capability_required("relief.deliver")
def grid_page(request, pk: int, grid_pk: int):
    ctx = _grid_context(request, pk, grid_pk)
    groups = _by_building(ctx["rows"])
    view = _view_params(request.GET)
    ctx["buildings"] = [
        {
            "building": g["building"],
            "done": sum(a.status == ReliefAllocation.Status.DELIVERED for a in g["rows"]),
            "total": len(g["rows"]),
        }
        for g in groups
    ]
    if "building" in view:
        groups = [g for g in groups if str(g["building"].pk) == view["building"]]
    if "todo" in view:
        # Not at home is still to deliver: the team goes back.
        left = (ReliefAllocation.Status.PENDING, ReliefAllocation.Status.NOT_HOME)
        groups = [{**g, "rows": [a for a in g["rows"] if a.status in left]} for g in groups]
        groups = [g for g in groups if g["rows"]]
    ctx["groups"] = groups
    ctx["view"] = view
    ctx["view_query"] = urlencode(view)
    ctx["found"] = request.GET.get("found", "")
    ctx["statuses"] = ReliefAllocation.Status
    return render(request, "relief/grid.html", ctx)


@capability_required("relief.deliver")
def grid_print(request, pk: int, grid_pk: int):
    ctx = _grid_context(request, pk, grid_pk)
    ctx["groups"] = _by_building(ctx["rows"])
    return render(request, "relief/print.html", ctx)


@capability_required("relief.deliver")
def grid_export(request, pk: int, grid_pk: int):
    ctx = _grid_context(request, pk, grid_pk)
    data = export_grid(
        actor=request.user, batch=ctx["batch"], grid_name=str(ctx["grid_name"]), rows=ctx["rows"]
    )
    response = HttpResponse(data, content_type=XLSX)
    response["Content-Disposition"] = (
        f'attachment; filename="relief-{ctx["batch"].pk}-grid-{ctx["grid_pk"]}.xlsx"'
    )
    return response


@require_POST
@capability_required("relief.deliver")
def grid_scan(request, pk: int, grid_pk: int):
    """A household card's pass QR (scanner or typed): find the household's row on this list and
    record it delivered."""
    from shouwang.residents.services import pass_resolve

    ctx = _grid_context(request, pk, grid_pk)
    back = reverse("relief:grid", args=[ctx["batch"].pk, ctx["grid_pk"]])
    try:
        holder = pass_resolve(request.POST.get("token", ""), community_id=request.user.community_id)
    except DomainError as e:
        messages.error(request, e.message)
        return redirect(back)
    row = next((a for a in ctx["rows"] if a.household_id == holder.household_id), None)
    if row is None:
        messages.error(
            request,
            _(
                "%(place)s is not on this grid's list for this batch. Check the grid, or the "
                "recount if the household is new."
            )
            % {"place": holder.place},
        )
        return redirect(back)
    if row.status != ReliefAllocation.Status.DELIVERED:
        try:
            services.allocation_record(
                actor=request.user, allocation=row, status=ReliefAllocation.Status.DELIVERED
            )
        except DomainError as e:
            messages.error(request, e.message)
            return redirect(f"{back}?found={row.pk}#a{row.pk}")
        messages.success(
            request,
            _("Delivered: %(door)s, %(n)s portions.") % {"door": row.door, "n": row.portions},
        )
    else:
        messages.info(
            request, _("%(door)s was already recorded as delivered.") % {"door": row.door}
        )
    return redirect(f"{back}?found={row.pk}#a{row.pk}")


@require_POST
@capability_required("relief.deliver")
def record(request, pk: int):
    a = selectors.allocation_get_for(request.user, pk)
    form = RecordForm(request.POST)
    if not form.is_valid():
        raise Http404
    services.allocation_record(
        actor=request.user,
        allocation=a,
        status=form.cleaned_data["status"],
        note=form.cleaned_data["note"],
    )
    nxt = request.POST.get("next", "")
    if nxt == "undelivered":
        return redirect(reverse("relief:undelivered", args=[a.batch_id]) + f"#a{a.pk}")
    view = urlencode(_view_params(request.POST))
    back = reverse("relief:grid", args=[a.batch_id, a.grid_id or NO_GRID])
    return redirect(f"{back}?{view}#a{a.pk}" if view else f"{back}#a{a.pk}")


@require_POST
@capability_required("relief.deliver")
def follow_up(request, pk: int):
    a = selectors.allocation_get_for(request.user, pk)
    form = FollowUpForm(request.POST)
    if form.is_valid():
        services.allocation_follow_up(
            actor=request.user, allocation=a, note=form.cleaned_data["follow_up"]
        )
        messages.success(request, _("The follow-up note is saved."))
    return redirect(reverse("relief:undelivered", args=[a.batch_id]) + f"#a{a.pk}")


@capability_required("relief.deliver")
def undelivered(request, pk: int):
    user = request.user
    batch = selectors.batch_get_for(user, pk)
    _issued(batch)
    try:
        grid_id = int(request.GET.get("grid") or 0)
    except ValueError:
        grid_id = 0
    rows = list(selectors.undelivered(user, batch, grid_id=grid_id or None)[:1000])
    return render(
        request,
        "relief/undelivered.html",
        {
            "batch": batch,
            "rows": rows,
            "grids": grids_for(user).order_by("sort", "name"),
            "grid_id": grid_id,
            **_links(user),
        },
    )
