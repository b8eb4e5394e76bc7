"""shouwang checkpoints_roster --community CODE --from DATE --days 7 [--generate]: the roster's
gaps and rules broken (and, with --generate, fill it first)."""

from __future__ import annotations

import datetime as dt

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from shouwang.checkpoints import roster
from shouwang.checkpoints.models import Checkpoint
from shouwang.core.errors import DomainError
from shouwang.registry.models import Community


class Command(BaseCommand):
    help = "Print the gaps and broken rules of a community's duty roster."

    def add_arguments(self, parser):
        parser.add_argument("--community", required=True)
        parser.add_argument("--from", dest="start", default=None, help="YYYY-MM-DD (today)")
        parser.add_argument("--days", type=int, default=7)
        parser.add_argument("--generate", action="store_true", help="fill empty places first")

    def handle(self, *, community, start, days, generate, **_):
        c = Community.objects.filter(code=community).first()
        if c is None:
            raise CommandError(f"no community {community!r}")
        try:
            start = dt.date.fromisoformat(start) if start else timezone.localdate()
        except ValueError as e:
            raise CommandError(f"--from: {e}") from None
        cps = list(Checkpoint.objects.filter(community=c, is_active=True).order_by("name"))
        try:
            if generate:
                made = roster.generate(
                    actor=None, community=c, checkpoints=cps, start=start, days=days
                )
                self.stdout.write(f"{made.made} duties made")
            found = roster.problems(community=c, shifts=roster.shifts_in(c.pk, cps, start, days))
        except DomainError as e:
            raise CommandError(str(e.message)) from None
        for p in found:
            self.stdout.write(f"{p.label}: {p.message}")
        gaps = sum(1 for p in found if p.is_gap)
        self.stdout.write(
            f"{len(cps)} checkpoints, {start} +{days} days: {gaps} gaps, "
            f"{len(found) - gaps} rules broken"
        )
