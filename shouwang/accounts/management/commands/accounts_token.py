from django.core.management.base import BaseCommand, CommandError

from shouwang.accounts.models import User
from shouwang.accounts.services import token_create


class Command(BaseCommand):
    help = "Print a new API token for USERNAME (send it as 'Authorization: Bearer <token>')."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--label", default="cli")

    def handle(self, *args, username, label, **opts):
        user = User.objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No user named {username!r}.")
        self.stdout.write(token_create(user=user, label=label))
