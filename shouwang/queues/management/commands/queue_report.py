"""The after-the-day summary of a sale day and the suggested ticket count for the next one."""

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from shouwang.queues import report
from shouwang.queues.models import SaleDay


class Command(BaseCommand):
    help = "Print a sale day's figures and the suggested ticket count; optionally write .xlsx."

    def add_arguments(self, parser):
        parser.add_argument("day", type=int, help="the sale day's id (see the staff pages)")
        parser.add_argument("--xlsx", metavar="FILE", help="also write the export to FILE")
        parser.add_argument(
            "--json", dest="as_json", action="store_true", help="print the summary as JSON"
        )

    def handle(self, *args, day, xlsx=None, as_json=False, **opts):
        d = SaleDay.objects.select_related("point").filter(pk=day).first()
        if d is None:
            raise CommandError(f"No sale day has the id {day}.")
        rep = report.day_report(d)
        if as_json:
            self.stdout.write(json.dumps(rep.as_dict(), ensure_ascii=False, indent=2))
        else:
            for line in report.report_text(rep):
                self.stdout.write(line)
        if xlsx:
            path = Path(xlsx)
            try:
                path.write_bytes(report.report_export(actor=None, day=d))
            except OSError as e:
                raise CommandError(f"Cannot write {path}: {e.strerror}.") from None
            self.stdout.write(f"Wrote {path}.")
