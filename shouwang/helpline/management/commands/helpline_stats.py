"""The help line's figures for a period, as the stats page shows them: the summary, the share of
each group (pooled and the average of the days) and, with --days, each day; optionally .xlsx."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from shouwang.core.commands import date_option, one_community
from shouwang.helpline import stats


class Command(BaseCommand):
    help = "Print help-line requests, shares by group, resolution and time to close for a period."

    def add_arguments(self, parser):
        parser.add_argument("--community", metavar="CODE", help="the community (needed if several)")
        parser.add_argument("--from", dest="first", metavar="YYYY-MM-DD")
        parser.add_argument("--to", dest="last", metavar="YYYY-MM-DD")
        parser.add_argument("--days", action="store_true", help="also print each day")
        parser.add_argument("--xlsx", metavar="FILE", help="also write the export to FILE")

    def handle(self, *args, community=None, first=None, last=None, days=False, xlsx=None, **o):
        c = one_community(community)
        a, b = stats.default_period()
        a = date_option(first, "from") or a
        b = date_option(last, "to") or max(a, b)
        if b < a:
            raise CommandError("--to must be on or after --from.")
        per_day, s = stats.report(c.pk, a, b)
        w = self.stdout.write
        w(f"{c.name} ({c.code})")
        for label, value in stats.table(s):
            w(f"{str(label) + ':':<42} {value}")
        w("")
        w(f"{'Group':<34} {'Requests':>8} {'Share':>9} {'Daily avg':>10}")
        for g in s.groups:
            if g.count or g.group in stats.XIAN:
                w(
                    f"{g.label:<34} {g.count:>8} {stats.pct(g.share):>9} {stats.pct(g.daily_share):>10}"
                )
        if days:
            w("")
            w(
                f"{'Date':<10} {'Requests':>8} {'Livel.':>6} {'Spec.':>6} {'Policy':>6} "
                f"{'Resolved':>9} {'Overdue':>7}"
            )
            for d in per_day:
                lv, sp, po = d.xian
                w(
                    f"{d.day.isoformat():<10} {d.requests:>8} {lv:>6} {sp:>6} {po:>6} "
                    f"{stats.pct(d.rate):>9} {d.overdue:>7}"
                )
        if xlsx:
            path = Path(xlsx)
            try:
                path.write_bytes(stats.xlsx_of(per_day, s))
            except OSError as e:
                raise CommandError(f"Cannot write {path}: {e.strerror}.") from None
            w(f"Wrote {path}.")
