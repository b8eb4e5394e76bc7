"""Run every draw whose registration has closed (for cron, e.g. every minute).

The draw also runs at the first request after its time; this makes sure it runs on time when
nobody is looking, so the SMS to the winners and the published order are not late."""

from django.core.management.base import BaseCommand
from django.utils import timezone

from shouwang.queues import services


class Command(BaseCommand):
    help = "Run the draws that are due (registration closed) and print what each did."

    def handle(self, *args, **opts):
        done = services.draws_due()
        if not done:
            self.stdout.write("No draws due.")
            return
        for d in done:
            at = timezone.localtime(d.drawn_at).strftime("%Y-%m-%d %H:%M")
            self.stdout.write(
                f"Day {d.pk} ({d.point.name} {d.date:%Y-%m-%d}): drawn at {at}, "
                f"{d.registered} registrations, {d.issued} of {d.tickets_total} tickets, "
                f"seed {d.draw_seed}"
            )
        self.stdout.write(f"{len(done)} draw(s) done.")
