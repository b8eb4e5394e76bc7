"""shouwang screening_results <round id> <file> [--commit]: the lab's file for a round, checked
(default) or imported all or nothing, as on the results page."""

import json

from django.core.management.base import BaseCommand, CommandError

from shouwang.core.errors import DomainError
from shouwang.screening.models import Round
from shouwang.screening.results import results_import


class Command(BaseCommand):
    help = (
        "Check the lab's results file (.xlsx/.csv: 管号, 结果, optional CT值, 检测时间) against a "
        "round's tubes; with --commit, record every result in one transaction, or nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("round", type=int, help="round id")
        parser.add_argument("file")
        parser.add_argument("--commit", action="store_true", help="write (default: check only)")
        parser.add_argument("--format", choices=["text", "json"], default="text")

    def handle(self, *args, round, file, commit, format, **opts):
        rnd = Round.objects.filter(pk=round).first()
        if rnd is None:
            raise CommandError(f"No round with id {round}.")
        try:
            report = results_import(actor=None, rnd=rnd, source=file, filename=file, commit=commit)
        except FileNotFoundError as e:
            raise CommandError(f"No such file: {file}") from e
        except DomainError as e:
            raise CommandError(f"{e.code}: {e.message}") from e
        if format == "json":
            self.stdout.write(json.dumps(report.as_dict(), ensure_ascii=False, indent=1))
        else:
            w = self.stdout.write
            if report.already:
                w(f"{file}: already imported into {rnd} (import {report.import_id}): nothing done.")
                return
            w(
                f"{file}: {report.rows} rows — {report.negatives} negative, "
                f"{report.positives} positive, {report.invalid} invalid, "
                f"{report.unchanged} already recorded"
            )
            if report.positive_tubes:
                w("Positive tubes: " + ", ".join(report.positive_tubes))
            for e in report.errors:
                w(f"  line {e.line:>6}  {e.column:<6}  {e.message}")
            if report.errors:
                w("Nothing imported: fix the rows above and run again.")
            elif report.committed:
                w(
                    f"Imported: {report.flagged} people flagged for a re-test, "
                    f"{len(report.visit_lists)} re-test lists."
                )
            else:
                w("Checked: nothing written. Add --commit to import.")
        if report.errors:
            raise SystemExit(1)
