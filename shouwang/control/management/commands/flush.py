"""Django's `flush`, which empties every table — with the control history's append-only
triggers lifted for it and put back straight after (shouwang/control/history.py). Nothing else
may empty that table; flush empties the whole database by design (tests use it between
transactional tests)."""

from django.core.management.commands.flush import Command as FlushCommand
from django.db import connections

from shouwang.control import history


class Command(FlushCommand):
    def handle(self, **options):
        connection = connections[options["database"]]
        history.remove(connection)
        try:
            return super().handle(**options)
        finally:
            history.install(connection)
