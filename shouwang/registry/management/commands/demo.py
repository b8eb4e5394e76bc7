import time

from django.core.management.base import BaseCommand

from shouwang.accounts.models import User
from shouwang.registry.demo import DEMO_PASSWORD, demo_build
from shouwang.registry.models import Community


class Command(BaseCommand):
    help = "Build the demo community (Huamei-like, ≈7,500 residents); --scale N builds N of them."

    def add_arguments(self, parser):
        parser.add_argument(
            "--scale", type=int, default=1, help="number of communities (default 1)"
        )
        parser.add_argument("--seed", type=int, default=2022)
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="do nothing when a community exists already (used by make run)",
        )

    def handle(self, *args, scale, seed, if_empty, **opts):
        started = time.monotonic()
        if if_empty and Community.objects.exists():
            self.stdout.write("The database has data already; the demo was not loaded.")
        else:
            demo_build(scale=scale, seed=seed, log=self.stdout.write)
            self.stdout.write(f"Built in {time.monotonic() - started:.1f} s.")
        self._print_logins()

    def _print_logins(self):
        users = User.objects.filter(community__code="HM").order_by("id")
        district = User.objects.filter(username="district").first()
        if not users.exists():
            return
        self.stdout.write("")
        self.stdout.write(f"Demo logins (password for all: {DEMO_PASSWORD})")
        for u in [*users, *([district] if district else [])]:
            if u.role == "grid_leader" and u.username not in ("grid1", "grid2"):
                continue
            if not u.has_usable_password():  # the roster's extra volunteers: no sign-in
                continue
            self.stdout.write(
                f"  {u.username:<10} {u.get_role_display()}"
                + (f" — {u.grid.name}" if u.grid_id else "")
            )
        self.stdout.write("  grid3 … grid10 lead the other grids.")
        from shouwang.residents.demo import demo_link

        token = demo_link(users.first().community)
        if token:
            self.stdout.write("")
            self.stdout.write("A resident's household page (no password; as on the printed card):")
            self.stdout.write(f"  http://127.0.0.1:8000/h/{token}/")
            self.stdout.write("Or sign in as a resident at http://127.0.0.1:8000/my/ with a")
            self.stdout.write("demo phone number; the SMS code is printed on this console.")
