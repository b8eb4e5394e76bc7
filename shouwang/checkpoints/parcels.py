"""Parcels at the gate shelf (置物架, issue 7 §5): logged for a household → disinfected and held
until `held_until` → handed to a building volunteer → delivered (confirmed by the volunteer, or
by the household on its page). The same chain as group buying's deliveries
(supplies/buying/delivery.py), for one parcel at a time.

Rules: steps only in order (a skipped step is refused, saying which comes first); doing a done
step again changes nothing and returns the parcel (a double tap, two guards pressing at once:
each step is a conditional UPDATE … WHERE status = <the step before>); the hand-over is refused
while the parcel is held after disinfection. Logging a parcel texts the household after commit
(never on rollback), with no name and no goods in the text: where it is, and what happens next.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Min, QuerySet
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from shouwang.accounts.scope import get_scoped, scope_queryset
from shouwang.checkpoints.models import Checkpoint, Parcel, ParcelStatus
from shouwang.core import crypto
from shouwang.core.audit import audit, signed_in
from shouwang.core.errors import Conflict, NotFound, invalid
from shouwang.registry.models import Household, Presence
from shouwang.registry.validation import clean_text

logger = logging.getLogger("shouwang.checkpoints")

# How long a disinfected parcel rests before it goes in (as group buying's default rest).
# settings.CHECKPOINT_PARCEL_HOLD_MINUTES overrides it.
HOLD_MINUTES = 120
# The same parcel typed twice within this time is one parcel (a double tap on "Log").
REPEAT_SECONDS = 120
SMS_KIND = "parcel"
SMS_TEXT = gettext_lazy(
    "%(community)s: a parcel for your home is on the shelf at %(checkpoint)s%(shelf)s. It will be "
    "disinfected and brought to your building by a volunteer. Confirm on your household page "
    "when you have it."
)

ORDER = [
    ParcelStatus.LOGGED,
    ParcelStatus.DISINFECTED,
    ParcelStatus.HANDED,
    ParcelStatus.DELIVERED,
]
STEPS = ("disinfected", "handed", "delivered")
STEP_ACTIONS = {
    "disinfected": gettext_lazy("Disinfected"),
    "handed": gettext_lazy("Hand to the building volunteer"),
    "delivered": gettext_lazy("Delivered"),
}
WAITING = (ParcelStatus.LOGGED, ParcelStatus.DISINFECTED)
OPEN = (ParcelStatus.LOGGED, ParcelStatus.DISINFECTED, ParcelStatus.HANDED)


def hold_minutes() -> int:
    return int(getattr(settings, "CHECKPOINT_PARCEL_HOLD_MINUTES", HOLD_MINUTES))


def _hm(t) -> str:
    return timezone.localtime(t).strftime("%m-%d %H:%M")


def next_step(p: Parcel) -> str | None:
    i = ORDER.index(p.status)
    return STEPS[i] if i < len(STEPS) else None


# --- log --------------------------------------------------------------------------------------


def parcel_log(
    *,
    actor,
    checkpoint: Checkpoint,
    household: Household,
    courier: str = "",
    description: str = "",
    shelf: str = "",
    now=None,
) -> Parcel:
    """A parcel put on the gate shelf for `household`. The household is texted after commit."""
    now = now or timezone.now()
    if household is None:
        raise invalid(
            "household", _("Name the household: type its door (e.g. 1号楼 101) and pick it.")
        )
    if household.community_id != checkpoint.community_id:
        raise NotFound("not_found", _("This household is not in this community."))
    courier = clean_text(courier)[:100]
    description = clean_text(description)[:200]
    shelf = clean_text(shelf)[:20]
    with transaction.atomic():
        same = (
            Parcel.objects.select_for_update()
            .filter(
                household=household,
                checkpoint=checkpoint,
                courier=courier,
                description=description,
                shelf=shelf,
                logged_by=signed_in(actor),
                logged_at__gte=now - dt.timedelta(seconds=REPEAT_SECONDS),
            )
            .first()
        )
        if same is not None:
            return same
        p = Parcel.objects.create(
            community_id=checkpoint.community_id,
            checkpoint=checkpoint,
            household=household,
            courier=courier,
            description=description,
            shelf=shelf,
            logged_at=now,
            logged_by=signed_in(actor),
        )
        audit(
            actor=actor,
            action="checkpoints.parcel_log",
            community=p.community_id,
            target=p,
            summary=f"{checkpoint.name} {shelf}".strip(),
        )
        transaction.on_commit(lambda: _text_household(p.pk))
    return p


def household_phone(household: Household) -> str:
    """The number to text: the household's contact phone, else the head's, else a member's."""
    if household.contact_phone_enc:
        return crypto.decrypt(household.contact_phone_enc)
    members = household.members.exclude(presence=Presence.MOVED_OUT).exclude(phone_enc="")
    head = members.filter(pk=household.head_id).first() if household.head_id else None
    r = head or members.order_by("pk").first()
    return crypto.decrypt(r.phone_enc) if r is not None else ""


def _text_household(parcel_id: int) -> None:
    from shouwang.registry.models import Community
    from shouwang.residents.sms import SmsFailed, sms_send

    p = Parcel.objects.select_related("household", "checkpoint").get(pk=parcel_id)
    phone = household_phone(p.household)
    if not phone:
        return  # no phone in the ledger: the volunteer's list is how they learn of it
    community = Community.objects.get(pk=p.community_id)
    with translation.override(settings.LANGUAGE_CODE):
        text = str(SMS_TEXT) % {
            "community": community.name,
            "checkpoint": p.checkpoint.name if p.checkpoint_id else _("the gate"),
            "shelf": f" ({p.shelf})" if p.shelf else "",
        }
    try:
        sms_send(phone_e164=phone, text=text, kind=SMS_KIND, community_id=p.community_id)
    except SmsFailed:
        return  # recorded by sms_send; the parcel list shows who was not texted
    Parcel.objects.filter(pk=p.pk).update(sms_sent_at=timezone.now())


# --- the steps --------------------------------------------------------------------------------


def _refuse_order(p: Parcel, step: str):
    want = ORDER[STEPS.index(step)]  # the status the step starts from
    if ORDER.index(p.status) < ORDER.index(want):
        first = next_step(p)
        return Conflict(
            "step_order",
            _("Not yet: first “%(first)s”, then “%(step)s”.")
            % {"first": STEP_ACTIONS[first], "step": STEP_ACTIONS[step]},
        )
    return None


def parcel_step(*, actor, parcel: Parcel, step: str, volunteer=None, now=None) -> Parcel:
    """Do `step` (disinfected, handed, delivered) on the parcel. A done step returns the parcel
    unchanged; a step whose previous one is not done is refused, as is the hand-over while the
    parcel is held. `volunteer` (handed): the building volunteer it goes to (default: the user
    pressing)."""
    now = now or timezone.now()
    if step not in STEPS:
        raise invalid("step", _("Unknown step."))
    user = signed_in(actor)
    frm = ORDER[STEPS.index(step)]
    to = ORDER[STEPS.index(step) + 1]
    with transaction.atomic():
        p = Parcel.objects.select_for_update().get(pk=parcel.pk)
        if ORDER.index(p.status) >= ORDER.index(to):
            return p  # done before: a retry, or two people pressing at once
        refused = _refuse_order(p, step)
        if refused is not None:
            raise refused
        fields: dict = {"status": to}
        if step == "disinfected":
            fields |= {
                "disinfected_at": now,
                "disinfected_by": user,
                "held_until": now + dt.timedelta(minutes=hold_minutes()),
            }
        elif step == "handed":
            if p.held_until and now < p.held_until:
                raise Conflict(
                    "held",
                    _("The parcel is held after disinfection until %(t)s: hand it over then.")
                    % {"t": _hm(p.held_until)},
                )
            volunteer = volunteer or user
            if volunteer is None:
                raise invalid("volunteer", _("Choose the building volunteer taking it."))
            if volunteer.community_id != p.community_id:
                raise invalid("volunteer", _("This person is not in this community."))
            fields |= {"handed_at": now, "handed_to": volunteer}
        else:
            fields |= {"delivered_at": now, "delivered_by": user}
        won = Parcel.objects.filter(pk=p.pk, status=frm).update(**fields)
        if not won:  # cannot happen under the row lock; kept as the invariant
            raise Conflict("step_order", _("The parcel changed meanwhile: reload the page."))
        audit(
            actor=actor,
            action=f"checkpoints.parcel_{step}",
            community=p.community_id,
            target=p,
            summary=getattr(fields.get("handed_to"), "username", ""),
        )
    return Parcel.objects.get(pk=p.pk)


def parcel_received(*, parcel: Parcel, actor=None, consent=None, now=None) -> Parcel:
    """The household (on its page, or the volunteer it consented to) says it has the parcel.
    Only once the parcel was handed to the building volunteer; twice: the first stays."""
    now = now or timezone.now()
    with transaction.atomic():
        p = Parcel.objects.select_for_update().get(pk=parcel.pk)
        if p.status == ParcelStatus.DELIVERED:
            return p
        if p.status != ParcelStatus.HANDED:
            raise Conflict(
                "step_order",
                _(
                    "Your parcel is still at the gate: it is disinfected and held first, then a "
                    "volunteer brings it. Confirm when you have it."
                ),
            )
        Parcel.objects.filter(pk=p.pk, status=ParcelStatus.HANDED).update(
            status=ParcelStatus.DELIVERED,
            delivered_at=now,
            delivered_by=signed_in(actor),
            confirmed_by_household=True,
        )
        audit(
            actor=actor,
            action="checkpoints.parcel_received",
            community=p.community_id,
            target=p,
            summary="consent" if consent is not None else "household",
        )
    return Parcel.objects.get(pk=p.pk)


# --- reads ----------------------------------------------------------------------------------


def parcels_for(user) -> QuerySet[Parcel]:
    return scope_queryset(user, Parcel.objects.all())


def parcel_get_for(user, pk) -> Parcel:
    return get_scoped(user, Parcel.objects.all(), pk)


def with_place(qs: QuerySet[Parcel]) -> QuerySet[Parcel]:
    return qs.select_related(
        "checkpoint",
        "household__dwelling__unit",
        "household__building__compound",
        "handed_to",
        "logged_by",
    )


def waiting(qs: QuerySet[Parcel], *, checkpoint: Checkpoint | None = None) -> QuerySet[Parcel]:
    """On the shelf (logged or disinfected and held), oldest first."""
    qs = qs.filter(status__in=WAITING)
    if checkpoint is not None:
        qs = qs.filter(checkpoint=checkpoint)
    return with_place(qs).order_by("logged_at", "pk")


def for_building(qs: QuerySet[Parcel], building_id: int) -> QuerySet[Parcel]:
    """Not yet delivered, for one building: what its volunteer takes and brings."""
    return with_place(qs.filter(status__in=OPEN, household__building_id=building_id)).order_by(
        "household__dwelling__unit__name", "household__dwelling__door", "logged_at"
    )


def handed_to(qs: QuerySet[Parcel], user) -> QuerySet[Parcel]:
    return with_place(qs.filter(status=ParcelStatus.HANDED, handed_to=user)).order_by(
        "household__building_id", "household__dwelling__door", "handed_at"
    )


def counts(qs: QuerySet[Parcel]) -> list[dict]:
    """Open parcels by status, in chain order, with the oldest logged time of each."""
    rows = {
        r["status"]: r
        for r in qs.filter(status__in=OPEN)
        .values("status")
        .annotate(n=Count("id"), oldest=Min("logged_at"))
    }
    return [
        {
            "status": s,
            "label": ParcelStatus(s).label,
            "n": rows.get(s, {}).get("n", 0),
            "oldest": rows.get(s, {}).get("oldest"),
        }
        for s in OPEN
    ]


def household_parcels(household_id: int, *, days: int = 14) -> list[Parcel]:
    since = timezone.now() - dt.timedelta(days=days)
    return list(
        Parcel.objects.filter(household_id=household_id)
        .filter(
            status__in=OPEN,
        )
        .select_related("checkpoint")
        .order_by("-logged_at", "-pk")
    ) + list(
        Parcel.objects.filter(
            household_id=household_id, status=ParcelStatus.DELIVERED, delivered_at__gte=since
        )
        .select_related("checkpoint")
        .order_by("-delivered_at", "-pk")
    )
