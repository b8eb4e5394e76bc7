from __future__ import annotations

import time
import uuid
from pathlib import Path

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from shouwang.accounts.models import Role
from shouwang.accounts.permissions import can
from shouwang.core import crypto, sections
from shouwang.core.errors import DomainError
from shouwang.core.models import AuditEvent
from shouwang.core.views import capability_required
from shouwang.grids.selectors import grids_for
from shouwang.registry import selectors, services
from shouwang.registry.exporter import registry_export
from shouwang.registry.forms import HouseholdForm, PersonEditForm, PersonForm
from shouwang.registry.importer import registry_import
from shouwang.registry.models import CareTag, Community, Presence
from shouwang.registry.tabular import TableError


def home(request):
    user = request.user
    if not user.is_authenticated:
        return redirect("accounts:login")
    if can(user, "ledger.view"):
        return redirect("registry:overview")
    if can(user, "ledger.search"):
        return redirect("registry:search")
    if user.role == Role.DISTRICT:
        return redirect("registry:rollup")
    return render(request, "registry/welcome.html")


@capability_required("ledger.view")
def overview(request):
    data = selectors.community_overview(request.user)
    return render(request, "registry/overview.html", {"o": data, "grids": data["by_grid"]})


@capability_required("ledger.search")
def search(request):
    q = request.GET.get("q", "").strip()
    grid_id = _int(request.GET.get("grid"))
    tag = _int(request.GET.get("tag"))
    building_id = _int(request.GET.get("building"))
    residents = []
    searched = bool(q or grid_id or tag or building_id)
    more = False
    if searched:
        # One more than shown tells "exactly 100" from "more than 100".
        residents = list(
            selectors.resident_search(
                request.user, q=q, grid_id=grid_id, tag=tag, building_id=building_id, limit=101
            )
        )
        more = len(residents) > 100
        residents = residents[:100]
    return render(
        request,
        "registry/search.html",
        {
            "q": q,
            "residents": residents,
            "more": more,
            "can_edit": can(request.user, "ledger.edit"),
            "searched": searched,
            "grids": grids_for(request.user) if request.user.role != Role.GRID_LEADER else [],
            "grid_id": grid_id,
            "tags": list(CareTag),
            "tag": tag,
            "can_view_household": can(request.user, "ledger.view"),
        },
    )


@capability_required("ledger.view")
def household(request, pk: int):
    h = selectors.household_get_for(request.user, pk)
    members = list(h.members.all())
    members.sort(key=lambda m: (m.relation != "head", m.id))
    revealed = request.session.pop(f"revealed:{h.pk}", None)
    if revealed:
        revealed["value"] = crypto.decrypt(revealed["value"])
    return render(
        request,
        "registry/household.html",
        {
            "h": h,
            "members": members,
            "large": h.size >= request.user.community.large_household_threshold,
            "revealed": revealed,
            "can_reveal_phone": services.may_reveal(request.user, "phone"),
            "can_reveal_id": services.may_reveal(request.user, "id_number"),
            "presences": Presence.choices,
            "can_edit": can(request.user, "ledger.edit"),
            "doors": selectors.households_at_door(request.user, h),
            "sections": sections.render_list(sections.STAFF, request, h, request.user),
        },
    )


@require_POST
@capability_required("ledger.view")
def reveal(request, pk: int):
    resident = selectors.resident_get_for(request.user, pk)
    field = request.POST.get("field", "")
    try:
        value = services.resident_reveal(
            actor=request.user,
            resident=resident,
            field=field,
            reason=request.POST.get("reason", ""),
        )
    except DomainError as e:
        messages.error(request, e.message)
    else:
        # Shown once, on the next page view only.
        # Shown once; encrypted like every stored value, as sessions live in the database.
        request.session[f"revealed:{resident.household_id}"] = {
            "resident": resident.pk,
            "field": field,
            "value": crypto.encrypt(value),
        }
    return redirect("registry:household", pk=resident.household_id)


UPLOAD_KEEP_SECONDS = 24 * 3600


def _upload_dir() -> Path:
    path = settings.VAR_DIR / "imports"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _forget_old_uploads() -> None:
    """A checked file that was never confirmed holds personal data: keep it a day at most."""
    cutoff = time.time() - UPLOAD_KEEP_SECONDS
    for f in _upload_dir().iterdir():
        try:
            if f.stat().st_mtime < cutoff:
                f.unlink()
        except FileNotFoundError:
            pass  # another worker removed it first


@require_http_methods(["GET", "POST"])
@capability_required("ledger.import")
def import_view(request):
    report = None
    error = None
    upload_id = None
    if request.method == "POST":
        commit = request.POST.get("commit") == "1"
        try:
            if commit:
                upload_id = request.POST.get("upload", "")
                meta = request.session.get(f"import:{upload_id}")
                if not meta:
                    raise DomainError(
                        "upload_expired", _("That upload has expired. Choose the file again.")
                    )
                path = _upload_dir() / meta["stored"]
                report = registry_import(
                    actor=request.user,
                    community=request.user.community,
                    source=path,
                    filename=meta["filename"],
                    commit=True,
                )
                path.unlink(missing_ok=True)
                del request.session[f"import:{upload_id}"]
                upload_id = None
            else:
                f = request.FILES.get("file")
                if f is None:
                    raise DomainError("file_missing", _("Choose an .xlsx or .csv file first."))
                if f.size > settings.IMPORT_MAX_BYTES:
                    raise TableError("file_too_large", _("The file is too large."))
                _forget_old_uploads()
                upload_id = uuid.uuid4().hex
                stored = upload_id + Path(f.name).suffix.lower()[:6]
                with open(_upload_dir() / stored, "wb") as out:
                    for chunk in f.chunks():
                        out.write(chunk)
                request.session[f"import:{upload_id}"] = {"stored": stored, "filename": f.name}
                report = registry_import(
                    actor=request.user,
                    community=request.user.community,
                    source=_upload_dir() / stored,
                    filename=f.name,
                    commit=False,
                )
        except TableError as e:
            error = e.message
            upload_id = None
        except DomainError as e:
            error = e.message
    return render(
        request,
        "registry/import.html",
        {
            "report": report,
            "error": error,
            "upload_id": upload_id,
        },
        status=400 if error else 200,
    )


@require_http_methods(["GET", "POST"])
@capability_required("ledger.export")
def export_view(request):
    if request.method == "POST":
        fmt = request.POST.get("format", "xlsx")
        full = request.POST.get("full") == "1"
        qs = selectors.residents_for(request.user)
        grid_id = _int(request.POST.get("grid"))
        if grid_id:
            qs = qs.filter(household__building__grid_id=grid_id)
        try:
            data, ctype = registry_export(
                actor=request.user,
                residents=qs,
                fmt=fmt,
                full=full,
                reason=request.POST.get("reason", ""),
            )
        except DomainError as e:
            messages.error(request, e.message)
            return redirect("registry:export")
        response = HttpResponse(data, content_type=ctype)
        response["Content-Disposition"] = f'attachment; filename="residents.{fmt}"'
        return response
    return render(
        request,
        "registry/export.html",
        {
            "grids": grids_for(request.user),
            "can_full": can(request.user, "reveal.id_number"),
        },
    )


@capability_required("rollup.view")
def rollup(request):
    user = request.user
    if user.role == Role.DISTRICT:
        communities = Community.objects.filter(street__district_id=user.district_id)
    else:
        communities = Community.objects.filter(pk=user.community_id)
    rows = selectors.communities_rollup(communities)
    return render(
        request,
        "registry/rollup.html",
        {
            "rows": rows,
            "total_people": sum(r["people"] for r in rows),
            "total_households": sum(r["households"] for r in rows),
        },
    )


@capability_required("audit.view")
def audit_log(request):
    qs = AuditEvent.objects.filter(community_id=request.user.community_id).select_related("actor")
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    return render(request, "registry/audit.html", {"page": page})


def _submit(request, form, save, done_message):
    """A posted person form: run the service and go to the household page, or put the
    service's field errors on the form (None: render the form again)."""
    if request.method != "POST" or not form.is_valid():
        return None
    try:
        household_id = save()
    except DomainError as e:
        form.add_domain_errors(e)
        return None
    messages.success(request, done_message)
    return redirect("registry:household", pk=household_id)


def _int(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


@require_http_methods(["GET", "POST"])
@capability_required("ledger.edit")
def member_add(request, pk: int):
    h = selectors.household_get_for(request.user, pk)
    form = PersonForm(request.POST or None, initial={"relation": "other"})

    def save():
        services.resident_create(actor=request.user, household=h, data=form.service_data())
        return h.pk

    if done := _submit(request, form, save, _("Added.")):
        return done
    return render(
        request,
        "registry/person_form.html",
        {"form": form, "h": h, "adding": True},
        status=400 if form.errors else 200,
    )


@require_http_methods(["GET", "POST"])
@capability_required("ledger.edit")
def resident_edit(request, pk: int):
    r = selectors.resident_get_for(request.user, pk)
    initial = {
        "name": r.name,
        "phone": r.phone_masked,
        "relation": r.relation,
        "residency": r.residency,
        "presence": r.presence,
        "tags": [t.value for t in CareTag if r.tags & t.value],
        "medicines": r.medicines,
        "note": r.note,
    }
    form = PersonEditForm(request.POST or None, initial=initial)

    def save():
        data = form.service_data()
        # The phone field shows the masked value; leaving it untouched keeps the number.
        if data.get("phone") == r.phone_masked:
            data.pop("phone")
        services.resident_update(actor=request.user, resident=r, data=data)
        return r.household_id

    if done := _submit(request, form, save, _("Saved.")):
        return done
    return render(
        request,
        "registry/person_form.html",
        {"form": form, "h": r.household, "person": r, "adding": False},
        status=400 if form.errors else 200,
    )


@require_http_methods(["GET", "POST"])
@capability_required("ledger.edit")
def household_new(request):
    buildings = selectors.buildings_for(request.user).select_related("compound")
    form = HouseholdForm(request.POST or None, buildings=buildings)

    def save():
        return services.household_create(
            actor=request.user,
            building=form.cleaned_data["building"],
            unit=form.cleaned_data["unit"],
            door=form.cleaned_data["door"],
            head=form.head_data(),
        ).pk

    if done := _submit(request, form, save, _("Household registered.")):
        return done
    return render(
        request,
        "registry/household_form.html",
        {"form": form},
        status=400 if form.errors else 200,
    )
