"""`shouwang serve`: the production server (granian, WSGI), static files by whitenoise.

Why granian + WSGI: measured on these machines, Django under ASGI served about a fifth of what
the same views served as WSGI under granian (docs/decisions/0001-serving.md).
"""

import os
import shutil
import sys

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Serve Shouwang with granian (WSGI) on HOST:PORT with N worker processes."

    def add_arguments(self, parser):
        parser.add_argument("--host", default=os.environ.get("SHOUWANG_HOST", "127.0.0.1"))
        parser.add_argument(
            "--port", type=int, default=int(os.environ.get("SHOUWANG_PORT", "8000"))
        )
        parser.add_argument(
            "--workers",
            type=int,
            default=int(os.environ.get("SHOUWANG_WORKERS", "1")),
            help="worker processes (default 1; on PostgreSQL use about one per core)",
        )
        parser.add_argument(
            "--threads",
            type=int,
            default=int(os.environ.get("SHOUWANG_THREADS", "4")),
            help="threads per worker (default 4: more only queue up in front of SQLite)",
        )
        parser.add_argument("--no-collectstatic", action="store_true")

    def handle(self, *args, **opts):
        engine = settings.DATABASES["default"]["ENGINE"]
        if engine.endswith("sqlite3") and opts["workers"] > 1:
            self.stderr.write(
                "Several workers on SQLite work, but writes queue on one file lock; "
                "use PostgreSQL (DATABASE_URL=postgres://…) for more than one worker."
            )
        if not opts["no_collectstatic"]:
            call_command("collectstatic", interactive=False, verbosity=0)
        granian = shutil.which("granian", path=os.path.dirname(sys.executable)) or shutil.which(
            "granian"
        )
        if granian is None:
            self.stderr.write("granian is not installed: pip install -e . (see README)")
            sys.exit(1)
        argv = [
            granian,
            "--interface",
            "wsgi",
            "--host",
            opts["host"],
            "--port",
            str(opts["port"]),
            "--workers",
            str(opts["workers"]),
            "--blocking-threads",
            str(opts["threads"]),
            # A small queue in front of a few threads keeps p99 low (512 threads: p99 > 0.8 s).
            "--backpressure",
            str(max(opts["threads"] * 4, 16)),
            "--no-ws",
            "--log-level",
            os.environ.get("SHOUWANG_SERVER_LOG_LEVEL", "warning"),
            "config.wsgi:application",
        ]
        self.stdout.write(
            f"Shouwang on http://{opts['host']}:{opts['port']}/ "
            f"({opts['workers']} worker(s) × {opts['threads']} threads, {engine.rsplit('.', 1)[-1]})"
        )
        self.stdout.flush()
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
        os.execv(granian, argv)
