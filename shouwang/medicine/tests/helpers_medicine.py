"""Builders for the medicine tests beyond the lead's testing.py: a need walked to a stage
through the services, so its history is real."""

from __future__ import annotations

from shouwang.medicine import services
from shouwang.medicine.models import FLOW, Stage
from shouwang.medicine.testing import make_need, make_run


def need_at(stage: str, resident, *, actor, run=None, **kw):
    """A need registered through the service and moved along the flow to `stage`."""
    n = services.need_register(
        actor=actor,
        resident=resident,
        drug=kw.pop("drug", "硝苯地平缓释片"),
        quantity=kw.pop("quantity", "2盒"),
        **kw,
    )
    if stage == Stage.REGISTERED:
        return n
    run = run or make_run(resident.community, source="pharmacy", place="益丰大药房")
    services.run_add(actor=actor, run=run, needs=[n])
    for s in FLOW[FLOW.index(Stage.BOUGHT) : FLOW.index(stage) + 1]:
        if s == Stage.SETTLED:
            services.need_settle(actor=actor, need=n, amount="36.50", paid_by="resident")
        else:
            services.need_advance(actor=actor, need=n, to=s)
    n.refresh_from_db()
    return n


__all__ = ["make_need", "make_run", "need_at"]
