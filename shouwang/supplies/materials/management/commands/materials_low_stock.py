"""Print the items at or below their low-stock level, per community (for cron, e.g. every
morning; the exit status is 0 either way, so a mail-on-output cron line is enough)."""

from django.core.management.base import BaseCommand

from shouwang.registry.models import Community
from shouwang.supplies.materials.selectors import low_stock


class Command(BaseCommand):
    help = "List materials at or below their low-stock threshold (total or per place)."

    def add_arguments(self, parser):
        parser.add_argument("--community", help="Community code (default: every community).")

    def handle(self, *args, community=None, **opts):
        communities = Community.objects.order_by("code")
        if community:
            communities = communities.filter(code=community)
            if not communities.exists():
                self.stderr.write(f"No community with the code {community!r}.")
                return
        found = 0
        for c in communities:
            rows = low_stock(c.pk)
            for r in rows:
                item = r.item
                line = f"{c.code} {c.name}: {item.name} {r.total} {item.unit}"
                if r.low_total:
                    line += f" (total, alert at {item.low_stock_threshold})"
                for cell in r.low_places:
                    line += f"; {cell.location.name} {cell.quantity} (alert at {cell.threshold})"
                self.stdout.write(line)
            found += len(rows)
        self.stdout.write(f"{found} item(s) low on stock.")
