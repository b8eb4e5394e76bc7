"""Set up the coming order windows of every merchant with a schedule (Hohhot: every two
days). Run it daily (cron or a systemd timer); running it twice creates nothing twice."""

from django.core.management.base import BaseCommand

from shouwang.supplies.buying import services
from shouwang.supplies.buying.models import Merchant


class Command(BaseCommand):
    help = "Create the coming order windows from each merchant's schedule."

    def add_arguments(self, parser):
        parser.add_argument(
            "--days", type=int, default=6, help="How many days ahead to set up (default 6)."
        )
        parser.add_argument("--community", help="Only this community (its code).")

    def handle(self, *args, days, community=None, **options):
        merchants = Merchant.objects.filter(active=True, every_days__gt=0).order_by("pk")
        if community:
            merchants = merchants.filter(community__code=community)
        total = 0
        for m in merchants:
            made = services.windows_schedule(merchant=m, days_ahead=days)
            total += len(made)
            if made:
                self.stdout.write(f"{m.name}: {len(made)} window(s)")
        self.stdout.write(f"{total} window(s) created for {merchants.count()} merchant(s).")
