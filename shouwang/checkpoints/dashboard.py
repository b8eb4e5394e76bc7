"""The checkpoint dashboard (issue 7 §7): passages per checkpoint per hour today, denials (and
"check further") by reason, parcels waiting, and who is on duty now. Reads only, a handful of
grouped queries; the page and the API show the same figures."""

from __future__ import annotations

import datetime as dt
from collections import Counter

from django.db.models import Count
from django.db.models.functions import TruncHour
from django.utils import timezone

from shouwang.checkpoints import parcels as parcel_svc
from shouwang.checkpoints.decision import REASONS, reason_label
from shouwang.checkpoints.models import Checkpoint, Decision, Duty, Parcel, Passage
from shouwang.checkpoints.visitors import day_bounds

OLDEST_PARCELS = 15


def passages_by_hour(community_id: int, day: dt.date) -> dict:
    """{"hours": [0..23], "rows": [{"checkpoint", "counts": [24 ints], "total", "denied"}],
    "totals": [24 ints], "max": n} for the day (local hours)."""
    start, end = day_bounds(day)
    tz = timezone.get_current_timezone()
    qs = (
        Passage.objects.filter(community_id=community_id, at__gte=start, at__lt=end)
        .annotate(hour=TruncHour("at", tzinfo=tz))
        .values("checkpoint_id", "hour", "decision")
        .annotate(n=Count("id"))
    )
    counts: dict = {}
    denied: Counter = Counter()
    for r in qs:
        h = (
            timezone.localtime(r["hour"], tz).hour
            if timezone.is_aware(r["hour"])
            else r["hour"].hour
        )
        counts.setdefault(r["checkpoint_id"], [0] * 24)[h] += r["n"]
        if r["decision"] == Decision.DENY:
            denied[r["checkpoint_id"]] += r["n"]
    names = {
        c.pk: c for c in Checkpoint.objects.filter(community_id=community_id).order_by("name", "pk")
    }
    rows = []
    for cp in names.values():
        c = counts.get(cp.pk, [0] * 24)
        if cp.is_active or sum(c):
            rows.append({"checkpoint": cp, "counts": c, "total": sum(c), "denied": denied[cp.pk]})
    if None in counts:  # passages of a checkpoint deleted since
        c = counts[None]
        rows.append({"checkpoint": None, "counts": c, "total": sum(c), "denied": denied[None]})
    totals = [sum(r["counts"][h] for r in rows) for h in range(24)]
    peak = max([n for r in rows for n in r["counts"]] or [0])
    return {"hours": list(range(24)), "rows": rows, "totals": totals, "max": peak}


def by_reason(community_id: int, day: dt.date) -> list[dict]:
    """Denials and "check further" answers of the day by reason code, most frequent first. A
    passage with two reasons counts once under each; only the reasons that gave its decision
    count (a fever deny's information "precaution" is not a denial reason)."""
    start, end = day_bounds(day)
    rows = (
        Passage.objects.filter(
            community_id=community_id,
            at__gte=start,
            at__lt=end,
            decision__in=[Decision.DENY, Decision.CHECK],
        )
        .values("decision", "reasons")
        .annotate(n=Count("id"))
    )
    tally: Counter = Counter()
    for r in rows:
        for code in filter(None, r["reasons"].split(",")):
            given = REASONS[code][0] if code in REASONS else r["decision"]
            if given == r["decision"]:
                tally[(r["decision"], code)] += r["n"]
    return [
        {"decision": d, "code": code, "label": reason_label(code), "n": n}
        for (d, code), n in sorted(
            tally.items(), key=lambda kv: (kv[0][0] != Decision.DENY, -kv[1], kv[0][1])
        )
    ]


def on_duty(community_id: int, now=None) -> list[Duty]:
    now = now or timezone.now()
    return list(
        Duty.objects.filter(community_id=community_id, starts_at__lte=now, ends_at__gt=now)
        .select_related("user", "shift__checkpoint")
        .order_by("shift__checkpoint__name", "kind", "starts_at", "pk")
    )


def figures(community_id: int, *, day: dt.date | None = None, now=None) -> dict:
    now = now or timezone.now()
    day = day or timezone.localdate(now)
    qs = Parcel.objects.filter(community_id=community_id)
    return {
        "day": day,
        "now": now,
        "hourly": passages_by_hour(community_id, day),
        "reasons": by_reason(community_id, day),
        "parcels": parcel_svc.counts(qs),
        "oldest_parcels": list(
            parcel_svc.with_place(qs.filter(status__in=parcel_svc.OPEN)).order_by(
                "logged_at", "pk"
            )[:OLDEST_PARCELS]
        ),
        "on_duty": on_duty(community_id, now),
    }
