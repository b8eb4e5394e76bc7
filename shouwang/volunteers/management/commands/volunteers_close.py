"""Nightly (cron): close the check-ins nobody checked out, at the task's end, for a leader to
look at (checkin.close_open)."""

from django.core.management.base import BaseCommand, CommandError

from shouwang.registry.models import Community
from shouwang.volunteers import checkin


class Command(BaseCommand):
    help = "Close check-ins without a check-out whose task ended more than two hours ago."

    def add_arguments(self, parser):
        parser.add_argument("--community", metavar="CODE", help="only this community")

    def handle(self, *args, community=None, **opts):
        cid = None
        if community:
            c = Community.objects.filter(code=community).first()
            if c is None:
                raise CommandError(f"No community has the code {community}.")
            cid = c.pk
        n = checkin.close_open(community_id=cid)
        self.stdout.write(f"Closed {n} check-in{'s' if n != 1 else ''} without a check-out.")
