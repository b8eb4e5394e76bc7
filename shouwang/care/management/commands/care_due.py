"""The morning list: who is due or overdue for a follow-up today, carer by carer."""

from django.core.management.base import BaseCommand

from shouwang.care import selectors
from shouwang.core.commands import communities, date_option


class Command(BaseCommand):
    help = "Print who is due or overdue for a care follow-up, per carer (all communities or one)."

    def add_arguments(self, parser):
        parser.add_argument("--community", metavar="CODE", help="only this community")
        parser.add_argument("--date", metavar="YYYY-MM-DD", help="as on this day (default today)")

    def handle(self, *args, community=None, date=None, **opts):
        qs = communities(community)
        today = date_option(date, "date")
        total = 0
        for c in qs:
            groups = selectors.due_by_carer(c.pk, today=today)
            if not groups:
                continue
            self.stdout.write(f"{c.code} {c.name}")
            for g in groups:
                self.stdout.write(f"  {g['carer'] or '(not paired)'}")
                for r in g["people"]:
                    days = selectors.days_since(r.last_at, today)
                    when = "never contacted" if days is None else f"{days} days since last contact"
                    door = f"{r.household.building.name} {r.household.dwelling.door}"
                    self.stdout.write(f"    {r.state:<8} {r.name}  {door}  ({when})")
                    total += 1
        self.stdout.write(f"{total} {'person' if total == 1 else 'people'} to contact.")
