"""The morning list: the coming medicine runs and what is in them (counts by stage, never drug
names), and how many needs still wait for a run."""

from django.core.management.base import BaseCommand
from django.utils import timezone

from shouwang.core.commands import communities, date_option
from shouwang.medicine import selectors
from shouwang.medicine.models import FLOW, Stage


class Command(BaseCommand):
    help = "List the coming medicine runs (default: the next 7 days) and what is in them."

    def add_arguments(self, parser):
        parser.add_argument("--community", metavar="CODE", help="only this community")
        parser.add_argument("--from", dest="first", metavar="YYYY-MM-DD", help="default today")
        parser.add_argument("--days", type=int, default=7)

    def handle(self, *args, community=None, first=None, days=7, **opts):
        qs = communities(community)
        start = date_option(first, "from") or timezone.localdate()
        total = 0
        for c in qs:
            rows = selectors.upcoming_runs(c.pk, start=start, days=days)
            waiting = selectors.waiting_count(c.pk)
            if not rows and not waiting and not community:
                continue
            self.stdout.write(f"{c.code} {c.name}")
            for row in rows:
                r = row["run"]
                driver = r.driver.label if r.driver else r.driver_name
                stages = ", ".join(
                    f"{Stage(s).label.lower()} {row['stages'][s]}"
                    for s in (*FLOW, Stage.CANCELLED)
                    if row["stages"].get(s)
                )
                n = sum(v for s, v in row["stages"].items() if s != Stage.CANCELLED)
                self.stdout.write(
                    f"  {r.date:%Y-%m-%d} {r.get_source_display()} {r.place}"
                    f" · driver: {driver or '-'} · {n} need{'s' if n != 1 else ''}"
                    + (f" ({stages})" if stages else "")
                )
            self.stdout.write(f"  waiting for a run: {waiting}")
            total += len(rows)
        self.stdout.write(
            f"{total} run{'s' if total != 1 else ''} from {start:%Y-%m-%d} for {days} days."
        )
