"""Places a level is set on — a compound, a building or a unit — as the control app names them:
(kind, id) pairs, labels such as "华美小区 1号楼 2单元", scoped getters, and what lives there
(households, people, the last positive among them)."""

from __future__ import annotations

from django.db.models import Count, Max
from django.utils.translation import gettext_lazy as _

from shouwang.accounts.scope import scope_queryset
from shouwang.control.models import PlaceKind
from shouwang.core.errors import NotFound
from shouwang.registry.models import Building, Compound, Household, Resident, Unit

MODELS = {PlaceKind.COMPOUND: Compound, PlaceKind.BUILDING: Building, PlaceKind.UNIT: Unit}
# The path from a household to the place, per kind (filters and group-bys).
HOUSEHOLD_PATH = {
    PlaceKind.COMPOUND: "building__compound_id",
    PlaceKind.BUILDING: "building_id",
    PlaceKind.UNIT: "dwelling__unit_id",
}
# The field that holds the place on a Proposal or a Control.
FIELD = {PlaceKind.COMPOUND: "compound", PlaceKind.BUILDING: "building", PlaceKind.UNIT: "unit"}


def kind_of(place) -> str:
    for kind, model in MODELS.items():
        if isinstance(place, model):
            return str(kind)
    raise TypeError(f"not a place: {place!r}")


def fields(place) -> dict:
    """The PlaceFields of a Proposal or a Control for `place`."""
    kind = kind_of(place)
    return {"community_id": place.community_id, "kind": kind, FIELD[kind]: place}


def label(place) -> str:
    """ "华美小区", "华美小区 1号楼", "华美小区 1号楼 2单元"."""
    if isinstance(place, Compound):
        return place.name
    if isinstance(place, Building):
        return f"{place.compound.name} {place.name}"
    if isinstance(place, Unit):
        b = place.building
        return f"{b.compound.name} {b.name} {place.name}"
    raise TypeError(f"not a place: {place!r}")


def queryset(kind: str):
    if kind == PlaceKind.BUILDING:
        return Building.objects.select_related("compound")
    if kind == PlaceKind.UNIT:
        return Unit.objects.select_related("building__compound")
    if kind == PlaceKind.COMPOUND:
        return Compound.objects.all()
    raise NotFound("not_found", _("Not found."))


def get_for(user, kind: str, pk):
    """The place of the user's community (404 otherwise, and for a kind that is not one)."""
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise NotFound("not_found", _("Not found.")) from None
    obj = scope_queryset(user, queryset(kind)).filter(pk=pk).first()
    if obj is None:
        raise NotFound("not_found", _("Not found, or not in your community."))
    return obj


def of(row):
    """The place of a Proposal or Control (its related object, loaded)."""
    return row.place


def choices_for(user) -> list[tuple[str, list[tuple[str, str]]]]:
    """A grouped select's choices: value "kind:id", grouped by compound — the compound itself,
    its buildings, their units."""
    compounds = list(scope_queryset(user, Compound.objects.all()).order_by("name"))
    buildings = list(scope_queryset(user, Building.objects.all()).order_by("compound_id", "name"))
    units = list(scope_queryset(user, Unit.objects.all()).order_by("building_id", "name"))
    units_of: dict[int, list] = {}
    for u in units:
        units_of.setdefault(u.building_id, []).append(u)
    buildings_of: dict[int, list] = {}
    for b in buildings:
        buildings_of.setdefault(b.compound_id, []).append(b)
    out = []
    for c in compounds:
        opts = [(f"compound:{c.pk}", str(_("%(name)s — the whole compound") % {"name": c.name}))]
        for b in buildings_of.get(c.pk, []):
            opts.append((f"building:{b.pk}", f"{c.name} {b.name}"))
            for u in units_of.get(b.pk, []):
                opts.append((f"unit:{u.pk}", f"{c.name} {b.name} {u.name}"))
        out.append((c.name, opts))
    return out


def parse_value(user, value: str):
    """A "kind:id" value of the grouped select → the place (404 outside the community)."""
    kind, _sep, pk = (value or "").partition(":")
    return get_for(user, kind, pk)


def households(kind: str, place_id: int):
    return Household.objects.filter(**{HOUSEHOLD_PATH[kind]: place_id})


def counts(pairs) -> dict[tuple[str, int], dict]:
    """{(kind, id): {"households", "people", "last_positive"}} for many places, a few grouped
    queries per kind (not one per place)."""
    from shouwang.screening.models import Positive

    by_kind: dict[str, set[int]] = {}
    for kind, pk in pairs:
        by_kind.setdefault(kind, set()).add(pk)
    out = {(k, pk): {"households": 0, "people": 0, "last_positive": None} for k, pk in pairs}
    for kind, ids in by_kind.items():
        path = HOUSEHOLD_PATH[kind]
        for row in (
            Household.objects.filter(**{f"{path}__in": ids}).values(path).annotate(n=Count("pk"))
        ):
            out[(kind, row[path])]["households"] = row["n"]
        rpath = f"household__{path}"
        for row in (
            Resident.objects.living_here()
            .filter(**{f"{rpath}__in": ids})
            .values(rpath)
            .annotate(n=Count("pk"))
        ):
            out[(kind, row[rpath])]["people"] = row["n"]
        ppath = f"resident__household__{path}"
        for row in (
            Positive.objects.filter(**{f"{ppath}__in": ids})
            .values(ppath)
            .annotate(last=Max("detected_on"))
        ):
            out[(kind, row[ppath])]["last_positive"] = row["last"]
    return out
