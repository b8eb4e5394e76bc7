"""Area control in the demo community, through the services (four eyes and all): one building
sealed three days ago (proposed by the staff operator, approved by the admin), one compound
controlled (proposed by a grid leader), a building under precaution that was released yesterday,
and a pending proposal to seal a building made by a positive antigen self-test."""

from __future__ import annotations

import datetime as dt

from django.db.models import Count

from shouwang.control import services
from shouwang.control.models import Proposal, ProposalSource
from shouwang.registry.models import Building, Compound, Resident


def demo(community, *, now, users, log=print) -> dict:
    """Returns what it made (or {} when the community has it already)."""
    if Proposal.objects.filter(community=community, source=ProposalSource.MANUAL).exists():
        log(f"{community.code}: control demo exists, skipped")
        return {}
    admin = users["admin"]
    proposer = users.get("staff") or users.get("grid_leader")
    leader = users.get("grid_leader") or proposer
    buildings = list(
        Building.objects.filter(community=community)
        .annotate(n=Count("households"))
        .filter(n__gt=0)
        .select_related("compound")
        .order_by("compound__name", "name")
    )
    if len(buildings) < 3:
        log(f"{community.code}: too few buildings for the control demo, skipped")
        return {}
    day = dt.timedelta(days=1)
    made = {}

    def level(place, lvl, reason, evidence, at, by, planned_end=None):
        p = services.proposal_create(
            actor=by,
            place=place,
            level=lvl,
            reason=reason,
            evidence=evidence,
            planned_end=planned_end,
            now=at,
        )
        return services.proposal_approve(
            actor=admin, proposal=p, now=at + dt.timedelta(hours=2), note="已核实"
        )

    sealed = buildings[0]
    made["sealed"] = level(
        sealed,
        "sealed",
        "本楼2例核酸阳性，街道通知封控",
        "街道防控办通知〔2022〕41号；阳性：单管复核 4月9日",
        now - 3 * day,
        proposer,
    ).control
    compound = next(
        (
            c
            for c in Compound.objects.filter(community=community).order_by("name")
            if c.pk != sealed.compound_id and c.buildings.exists()
        ),
        None,
    )
    if compound is not None:
        made["controlled"] = level(
            compound,
            "controlled",
            "相邻楼栋封控，小区管控",
            "街道通知：与封控楼同一小区出入口",
            now - 2 * day,
            leader,
        ).control
    released = buildings[-1]
    level(
        released,
        "precaution",
        "周边小区出现阳性，防范",
        "区防控办通报",
        now - 10 * day,
        proposer,
        planned_end=now - 2 * day + dt.timedelta(hours=6),
    )
    services.remind_due(now=now - 2 * day + dt.timedelta(hours=7), community_id=community.pk)
    made["released"] = level(
        released, "none", "7天无新增阳性，解除防范", "连续7天核酸阴性", now - day, proposer
    ).ended
    # A pending proposal, made by a positive antigen self-test in a building under no level.
    from shouwang.screening import antigen

    target = buildings[len(buildings) // 2]
    person = (
        Resident.objects.living_here().filter(household__building=target).order_by("pk").first()
    )
    if person is not None:
        antigen.report_save(actor=admin, resident=person, result="positive", via="staff")
        made["pending"] = Proposal.objects.filter(
            community=community, source=ProposalSource.POSITIVE, status="pending"
        ).first()
    log(
        f"{community.code}: control demo: sealed {sealed}, "
        f"controlled {compound or '-'}, released {released}, "
        f"{'a pending proposal from a positive' if made.get('pending') else 'no pending proposal'}"
    )
    return made
