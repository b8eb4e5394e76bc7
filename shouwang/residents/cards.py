"""Printed pass cards for residents without a smartphone: who is on a print run, and what each
card says on its front (masked name, door, pass QR) and back (service directory, grid leader,
household link).

A4 sheets hold 8 cards (2 columns × 4 rows). Each sheet of fronts is followed by its sheet of
backs; the backs are mirrored left-right so that a duplex printer flipping on the long edge puts
each back behind its own front.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import F, QuerySet
from django.db.models.functions import Length
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext, pgettext_lazy

from shouwang.core.audit import audit
from shouwang.core.errors import DomainError, NotFound
from shouwang.core.masking import mask_name_initial
from shouwang.grids.selectors import grid_get_for, grids_for
from shouwang.registry.models import Resident
from shouwang.registry.selectors import (
    building_get_for,
    buildings_for,
    household_get_for,
    residents_for,
)
from shouwang.residents import services, tokens
from shouwang.residents.models import DirectoryEntry, DirectoryKind, Pass
from shouwang.residents.qr import qr_svg

COLUMNS = 2
ROWS = 4
PER_SHEET = COLUMNS * ROWS
# One print run; a bigger grid is printed building by building.
MAX_CARDS = 400
MAX_SELECTED = 200
# Lines of the service directory that fit on the back of a card.
MAX_BACK_ENTRIES = 7
# The kind of a directory line in the narrow column of the card.
CARD_KIND = {
    DirectoryKind.COMMITTEE: pgettext_lazy("directory kind on a card", "Committee"),
    DirectoryKind.PHARMACY: pgettext_lazy("directory kind on a card", "Pharmacy"),
    DirectoryKind.SUPERMARKET: pgettext_lazy("directory kind on a card", "Shop"),
    DirectoryKind.CLINIC: pgettext_lazy("directory kind on a card", "Clinic"),
    DirectoryKind.HOSPITAL: pgettext_lazy("directory kind on a card", "Hospital"),
    DirectoryKind.HOTLINE: pgettext_lazy("directory kind on a card", "Hotline"),
    DirectoryKind.OTHER: pgettext_lazy("directory kind on a card", "Other"),
}


class TooManyCards(DomainError):
    status = 400


@dataclass
class Selection:
    """Who is on the print run, and how they were chosen (for the page title and the audit)."""

    residents: QuerySet
    label: str
    kind: str
    skipped: int = 0  # selected people who have moved out: no card


@dataclass
class Card:
    resident_id: int
    name_masked: str
    compound: str
    building: str
    unit: str
    door: str
    token: str
    token_grouped: str
    qr: str
    link_qr: str
    leader_name: str
    leader_phone: str


@dataclass
class DirectoryLine:
    kind: str
    name: str
    phone: str
    distance: str
    committee: bool


@dataclass
class Sheet:
    number: int
    fronts: list[Card | None]
    backs: list[Card | None] = field(default_factory=list)


@dataclass
class CardRun:
    community_name: str
    cards: list[Card]
    sheets: list[Sheet]
    directory: list[DirectoryLine]
    directory_total: int
    committee_phone: str

    @property
    def pages(self) -> int:
        return 2 * len(self.sheets)


def _ids(raw: str) -> list[int]:
    ids = []
    for part in raw.replace("，", ",").split(","):
        part = part.strip()
        if not part:
            continue
        try:
            value = int(part)
        except ValueError:
            raise NotFound("not_found", _("Not found.")) from None
        if value <= 0 or value > 2**62:
            raise NotFound("not_found", _("Not found."))
        ids.append(value)
    return list(dict.fromkeys(ids))


def select(user, params) -> Selection | None:
    """The people chosen by `?building=`, `?grid=`, `?household=` or `?residents=1,2,3`, inside
    the user's scope (anything outside it is a 404); None when nothing was chosen."""
    base = residents_for(user)
    if params.get("building"):
        b = building_get_for(user, params["building"])
        qs = base.filter(household__building=b).living_here()
        return Selection(qs, f"{b.compound.name} {b.name}", "building")
    if params.get("grid"):
        g = grid_get_for(user, params["grid"])
        qs = base.filter(household__building__grid=g).living_here()
        return Selection(qs, g.name, "grid")
    if params.get("household"):
        h = household_get_for(user, params["household"])
        qs = base.filter(household=h).living_here()
        return Selection(qs, services.place_label(h), "household")
    if params.get("residents"):
        # One comma-separated value, or one value a ticked box (a form without script).
        raw = params.getlist("residents") if hasattr(params, "getlist") else [params["residents"]]
        ids = _ids(",".join(raw))
        if not ids:
            return None
        if len(ids) > MAX_SELECTED:
            raise TooManyCards(
                "too_many",
                _("Choose at most %(n)s people at a time.") % {"n": MAX_SELECTED},
            )
        found = set(base.filter(pk__in=ids).values_list("pk", flat=True))
        if len(found) != len(ids):
            raise NotFound("not_found", _("Not found, or not in your community or grid."))
        qs = base.filter(pk__in=ids).living_here()
        living = qs.count()
        return Selection(
            qs,
            ngettext("%(n)s selected person", "%(n)s selected people", len(ids)) % {"n": len(ids)},
            "residents",
            skipped=len(ids) - living,
        )
    return None


def distance_label(metres: int | None) -> str:
    if metres is None:
        return ""
    if metres < 1000:
        return f"{metres} m"
    return f"{metres / 1000:.1f} km".replace(".0 km", " km")


def directory_for_cards(community_id: int) -> tuple[list[DirectoryLine], int, str]:
    """The lines printed on the back (the committee first), how many entries are marked for the
    card, and the committee's phone for "lost this card?"."""
    entries = list(DirectoryEntry.objects.filter(community_id=community_id))
    committee = next((e for e in entries if e.kind == DirectoryKind.COMMITTEE), None)
    on_card = [e for e in entries if e.on_card]
    # Stable sort: the model's order (sort, kind, distance, name) within each group.
    on_card.sort(key=lambda e: e.kind != DirectoryKind.COMMITTEE)
    lines = [
        DirectoryLine(
            kind=str(CARD_KIND.get(e.kind, e.get_kind_display())),
            name=e.name,
            phone=e.phone,
            distance=distance_label(e.distance_m),
            committee=e.kind == DirectoryKind.COMMITTEE,
        )
        for e in on_card[:MAX_BACK_ENTRIES]
    ]
    return lines, len(on_card), committee.phone if committee else ""


def _people(selection: Selection) -> list[Resident]:
    return list(
        selection.residents.select_related(
            "household__dwelling__unit",
            "household__building__compound",
            "household__building__grid__leader",
        ).order_by(
            "household__building__compound__name",
            Length("household__building__name"),
            "household__building__name",
            "household__dwelling__unit__name",
            Length("household__dwelling__door"),
            "household__dwelling__door",
            "household_id",
            "id",
        )
    )


def sheets_of(cards: list[Card]) -> list[Sheet]:
    """8 cards a sheet, row by row; the backs of a sheet mirror each row (long-edge duplex)."""
    sheets = []
    for n, start in enumerate(range(0, len(cards), PER_SHEET), start=1):
        fronts: list[Card | None] = list(cards[start : start + PER_SHEET])
        fronts += [None] * (PER_SHEET - len(fronts))
        backs = []
        for row in range(ROWS):
            backs += reversed(fronts[row * COLUMNS : (row + 1) * COLUMNS])
        sheets.append(Sheet(number=n, fronts=fronts, backs=backs))
    return sheets


def print_run(*, actor, selection: Selection, request=None) -> CardRun:
    """Assemble the cards of `selection`, issuing missing passes and household links, and
    record the printing (printed_at, print_count, one audit row)."""
    people = _people(selection)
    if len(people) > MAX_CARDS:
        raise TooManyCards(
            "too_many",
            _(
                "%(n)s people are too many for one print run (at most %(max)s). Print building "
                "by building."
            )
            % {"n": len(people), "max": MAX_CARDS},
        )
    community_id = actor.community_id
    households = list({r.household_id: r.household for r in people}.values())
    with transaction.atomic():
        passes = services.pass_ensure(actor=actor, residents=people) if people else {}
        links = services.links_ensure(actor=actor, households=households) if households else {}
        if passes:
            Pass.objects.filter(pk__in=[p.pk for p in passes.values()]).update(
                printed_at=timezone.now(), print_count=F("print_count") + 1
            )
            audit(
                actor=actor,
                action="cards.print",
                community=community_id,
                summary=f"{len(passes)} cards printed: {selection.label}",
            )
    link_qrs: dict[int, str] = {}
    cards = []
    for r in people:
        h = r.household
        if h.pk not in link_qrs:
            url = services.link_url(links[h.pk], request)
            link_qrs[h.pk] = qr_svg(url, title=str(_("Household page")), css_class="qr link-qr")
        token = tokens.token_for(passes[r.pk].code)
        leader = h.building.grid.leader if h.building.grid_id else None
        cards.append(
            Card(
                resident_id=r.pk,
                name_masked=mask_name_initial(r.name),
                compound=h.building.compound.name,
                building=h.building.name,
                unit=h.dwelling.unit.name if h.dwelling.unit_id else "",
                door=h.dwelling.door,
                token=token,
                token_grouped=tokens.grouped(token),
                qr=qr_svg(token, title=str(_("Pass")), css_class="qr pass-qr"),
                link_qr=link_qrs[h.pk],
                leader_name=leader.label if leader else "",
                leader_phone=leader.work_phone if leader else "",
            )
        )
    directory, directory_total, committee_phone = directory_for_cards(community_id)
    return CardRun(
        community_name=actor.community.name,
        cards=cards,
        sheets=sheets_of(cards),
        directory=directory,
        directory_total=directory_total,
        committee_phone=committee_phone,
    )


def choices(user) -> dict[str, QuerySet]:
    """What the selection form offers: the user's buildings and grids."""
    return {
        "buildings": buildings_for(user).select_related("compound"),
        "grids": grids_for(user),
    }
