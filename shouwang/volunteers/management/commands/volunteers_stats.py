"""The volunteers' figures as the seeds report them: volunteers who served, total hours, the
average and the top, then per team; optionally the .xlsx export (stats.py)."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from shouwang.core.commands import date_option, one_community
from shouwang.volunteers import stats
from shouwang.volunteers.models import Team


class Command(BaseCommand):
    help = "Print volunteers, total hours, average and top (and per team); optionally .xlsx."

    def add_arguments(self, parser):
        parser.add_argument("--community", metavar="CODE", help="the community (needed if several)")
        parser.add_argument("--from", dest="first", metavar="YYYY-MM-DD")
        parser.add_argument("--to", dest="last", metavar="YYYY-MM-DD")
        parser.add_argument("--team", metavar="NAME_OR_ID", help="only this team's tasks")
        parser.add_argument("--xlsx", metavar="FILE", help="also write the export to FILE")

    def handle(self, *args, community=None, first=None, last=None, team=None, xlsx=None, **o):
        c = one_community(community)
        a, b = date_option(first, "from"), date_option(last, "to")
        if a and b and b < a:
            raise CommandError("--to must be on or after --from.")
        team_id = None
        if team:
            t = Team.objects.filter(community=c, name=team).first()
            if t is None and team.isdigit():
                t = Team.objects.filter(community=c, pk=int(team)).first()
            if t is None:
                raise CommandError(f"{c.code} has no team {team!r}.")
            team_id = t.pk
        s = stats.summary(c.pk, first=a, last=b, team_id=team_id)
        period = f"{a or '…'} – {b or '…'}"
        self.stdout.write(f"{c.name} ({c.code}), {period}")
        self.stdout.write(f"Volunteers who served: {s.volunteers}")
        self.stdout.write(f"Total hours:           {s.hours}")
        self.stdout.write(f"Average hours:         {s.average_hours}")
        top = f" ({s.top_name})" if s.top_name else ""
        self.stdout.write(f"Most hours:            {s.top_hours}{top}")
        if team_id is None:
            rows = stats.by_team(c.pk, first=a, last=b)
            if rows:
                self.stdout.write("")
                self.stdout.write(f"{'Team':<20} {'People':>6} {'Hours':>9} {'Average':>8}")
                for r in rows:
                    self.stdout.write(
                        f"{str(r.team_name):<20} {r.volunteers:>6} {r.hours:>9} "
                        f"{r.average_hours:>8}"
                    )
        if xlsx:
            path = Path(xlsx)
            try:
                path.write_bytes(stats.xlsx(c.pk, first=a, last=b, team_id=team_id))
            except OSError as e:
                raise CommandError(f"Cannot write {path}: {e.strerror}.") from None
            self.stdout.write(f"Wrote {path}.")
