import json
import sys
import time

from django.core.management.base import BaseCommand, CommandError

from shouwang.registry.importer import registry_import
from shouwang.registry.models import Community
from shouwang.registry.tabular import TableError


class Command(BaseCommand):
    help = (
        "Check a ledger file (.xlsx/.csv) against a community; with --commit, import every "
        "accepted row in one transaction."
    )

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--community", required=True, help="community code")
        parser.add_argument("--commit", action="store_true", help="write (default: dry run)")
        parser.add_argument("--format", choices=["text", "json"], default="text")

    def handle(self, *args, file, community, commit, format, **opts):
        c = Community.objects.filter(code=community).first()
        if c is None:
            raise CommandError(f"No community with code {community!r} (shouwang community_create).")
        show_progress = format == "text" and sys.stderr.isatty()
        started = time.monotonic()

        def progress(done, total):
            if show_progress and total:
                width = 30
                filled = int(width * done / total)
                sys.stderr.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total}")
                sys.stderr.flush()

        try:
            report = registry_import(
                actor=None,
                community=c,
                source=file,
                filename=file,
                commit=commit,
                progress=progress,
            )
        except TableError as e:
            raise CommandError(f"{e.code}: {e.message}") from e
        except FileNotFoundError as e:
            raise CommandError(f"No such file: {file}") from e
        if show_progress:
            sys.stderr.write("\n")
        if format == "json":
            self.stdout.write(json.dumps(report.as_dict(), ensure_ascii=False, indent=1))
            return
        elapsed = time.monotonic() - started
        w = self.stdout.write
        w(
            f"{file}: {report.data_rows} rows, {report.accepted_rows} accepted, "
            f"{report.rejected_rows} rejected, {report.households} households "
            f"({elapsed:.1f} s)"
        )
        if report.unknown_columns:
            w("Columns not understood: " + ", ".join(report.unknown_columns))
        for kind, names in report.new_places.items():
            if names and kind != "dwellings":
                w(f"New {kind}: " + ", ".join(names))
        if report.new_places.get("dwellings"):
            w(f"New doors: {len(report.new_places['dwellings'])}")
        for p in report.rejected:
            w(f"  row {p.row:>6}  {p.column}  {p.code}: {p.message}")
        for p in report.warnings:
            w(f"  row {p.row:>6}  {p.column}  warning {p.code}: {p.message}")
        if commit:
            w(
                f"Committed: {report.created} created, {report.updated} updated, "
                f"{report.unchanged} unchanged, {report.households_created} new households."
            )
        else:
            w("Dry run: nothing written. Add --commit to import the accepted rows.")
