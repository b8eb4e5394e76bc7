"""Issue a pass to everyone of a community who has none (after an import, before printing)."""

from django.core.management.base import BaseCommand, CommandError

from shouwang.registry.models import Community, Resident
from shouwang.residents.models import Pass
from shouwang.residents.services import pass_ensure


class Command(BaseCommand):
    help = "Issue a personal pass to every resident of a community who has no active pass."

    def add_arguments(self, parser):
        parser.add_argument("community", help="community code, e.g. HM")
        parser.add_argument(
            "--batch", type=int, default=2000, help="residents per transaction (default 2000)"
        )

    def handle(self, *args, community, batch, **opts):
        c = Community.objects.filter(code=community).first()
        if c is None:
            raise CommandError(f"No community has the code {community!r}.")
        qs = Resident.objects.filter(community=c).exclude(presence="moved_out").order_by("id")
        done = issued = 0
        last = 0
        while True:
            chunk = list(qs.filter(id__gt=last)[:batch])
            if not chunk:
                break
            before = Pass.objects.filter(community=c, status="active").count()
            pass_ensure(actor=None, residents=chunk)
            issued += Pass.objects.filter(community=c, status="active").count() - before
            done += len(chunk)
            last = chunk[-1].pk
        self.stdout.write(f"{c.code}: {done} residents, {issued} new passes.")
