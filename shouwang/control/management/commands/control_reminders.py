"""Reminders at the planned end of control levels, and expiry of proposals nobody approved (for
cron or a systemd timer, e.g. every 10 minutes).

The pages show both as soon as they are due; this writes their history lines on time when
nobody is looking, and prints what it did."""

from django.core.management.base import BaseCommand
from django.utils import timezone

from shouwang.control import places, services


class Command(BaseCommand):
    help = "Write the planned-end reminders and expire old proposals; print what was done."

    def handle(self, *args, **opts):
        now = timezone.now()
        expired = services.expire_due(now=now)
        for p in expired:
            self.stdout.write(
                f"Expired: proposal {p.pk} ({places.label(p.place)} → {p.level}), "
                f"not approved by {timezone.localtime(p.expires_at):%Y-%m-%d %H:%M}"
            )
        reminded = services.remind_due(now=now)
        for c in reminded:
            self.stdout.write(
                f"Reminded: {places.label(c.place)} {c.level}, planned end "
                f"{timezone.localtime(c.planned_end):%Y-%m-%d %H:%M} "
                f"(community {c.community_id})"
            )
        self.stdout.write(f"{len(reminded)} reminder(s), {len(expired)} proposal(s) expired.")
