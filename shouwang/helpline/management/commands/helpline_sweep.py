"""Cron, every 15 minutes: escalate overdue requests to the community admin, hand over the shifts
nobody handed over, close yesterday (shifts.sweep). Prints what it did."""

from django.core.management.base import BaseCommand
from django.utils import timezone

from shouwang.core.commands import communities
from shouwang.helpline import shifts


class Command(BaseCommand):
    help = "Escalate overdue help-line requests, hand over unhanded shifts, close yesterday."

    def add_arguments(self, parser):
        parser.add_argument("--community", metavar="CODE", help="only this community")

    def handle(self, *args, community=None, **options):
        qs = communities(community)
        now = timezone.now()
        total = 0
        for c in qs:
            done = shifts.sweep(c.pk, now=now)
            lines = done.lines()
            total += len(lines)
            for line in lines:
                self.stdout.write(f"{c.code}: {line}")
        self.stdout.write(
            f"Swept {qs.count()} communities at {timezone.localtime(now):%Y-%m-%d %H:%M}: "
            f"{total} actions."
        )
