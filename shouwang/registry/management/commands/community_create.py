from django.core.management.base import BaseCommand, CommandError

from shouwang.core.errors import DomainError
from shouwang.registry.services import community_create


class Command(BaseCommand):
    help = "Create an empty community (the tenant) with CODE and NAME."

    def add_arguments(self, parser):
        parser.add_argument("code")
        parser.add_argument("name")
        parser.add_argument(
            "--large-household",
            type=int,
            default=6,
            help="households of this many people or more count as large (default 6)",
        )

    def handle(self, *args, code, name, large_household, **opts):
        try:
            c = community_create(actor=None, code=code, name=name, threshold=large_household)
        except DomainError as e:
            raise CommandError(str(e.message)) from e
        self.stdout.write(f"Created community {c.code} {c.name}.")
