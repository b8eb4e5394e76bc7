import getpass

from django.core.management.base import BaseCommand, CommandError

from shouwang.accounts.models import Role
from shouwang.accounts.services import user_create
from shouwang.core.errors import DomainError
from shouwang.grids.models import Grid
from shouwang.registry.models import Community, District


class Command(BaseCommand):
    help = "Create a user with a role in a community (and a grid, for grid leaders)."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--role", required=True, choices=Role.values)
        parser.add_argument("--community", help="community code")
        parser.add_argument("--grid", help="grid name (grid leaders)")
        parser.add_argument("--district", help="district code (district viewers)")
        parser.add_argument("--name", default="", help="display name")
        parser.add_argument("--password", help="omit to be asked")

    def handle(self, *args, **o):
        community = grid = district = None
        if o["community"]:
            community = Community.objects.filter(code=o["community"]).first()
            if community is None:
                raise CommandError(f"No community with code {o['community']!r}.")
        if o["grid"]:
            grid = Grid.objects.filter(community=community, name=o["grid"]).first()
            if grid is None:
                raise CommandError(f"No grid named {o['grid']!r} in that community.")
        if o["district"]:
            district = District.objects.filter(code=o["district"]).first()
            if district is None:
                raise CommandError(f"No district with code {o['district']!r}.")
        password = o["password"] or getpass.getpass("Password: ")
        try:
            user = user_create(
                actor=None,
                username=o["username"],
                password=password,
                role=o["role"],
                community=community,
                grid=grid,
                district=district,
                display_name=o["name"],
            )
        except DomainError as e:
            raise CommandError(str(e.message)) from e
        self.stdout.write(f"Created {user.username} ({user.get_role_display()}).")
