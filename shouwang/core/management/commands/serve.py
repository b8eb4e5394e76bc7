"""`shouwang serve`: the production servers — granian over WSGI for the pages and the API
(static files by whitenoise), and a second granian over ASGI for the live streams.

Why granian + WSGI: measured on these machines, Django under ASGI served about a fifth of what
the same views served as WSGI under granian (docs/decisions/0001-serving.md). A live stream is
the opposite case: a thread per open stream would run out at a few dozen watchers, so streams
go to `config.asgi` in its own process (docs/decisions/0006-queue-streams.md).

The two run as children of this command and stop together: Ctrl-C or SIGTERM stops both, and
if one of them dies the other is stopped too (a supervisor restarts the whole command).
"""

from __future__ import annotations

import os
import resource
import shutil
import signal
import subprocess
import sys
import time

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

STOP_GRACE_SECONDS = 10


def _raise_open_files_limit() -> int:
    """Each watcher holds a socket: lift the soft limit on open files to the hard one."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft < hard:
        target = hard if hard != resource.RLIM_INFINITY else max(soft, 65536)
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
        except (ValueError, OSError):
            pass
    return soft


class Command(BaseCommand):
    help = (
        "Serve Shouwang: granian (WSGI) on HOST:PORT with N worker processes, and the live "
        "streams (ASGI) on HOST:STREAM_PORT."
    )

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
            default=int(os.environ.get("SHOUWANG_THREADS", "1")),
            help="threads per worker (default 1: Python runs one thread at a time, and each "
            "extra thread made every request cost more CPU; add workers instead, see "
            "docs/decisions/0010-one-thread-per-worker.md)",
        )
        parser.add_argument(
            "--stream-port",
            type=int,
            default=settings.STREAM_PORT,
            help="port of the live-stream server (ASGI); 0: do not start one "
            "(default SHOUWANG_STREAM_PORT, 8001)",
        )
        parser.add_argument(
            "--stream-workers",
            type=int,
            default=1,
            help="stream server processes (default 1: one process holds 10,000 watchers; "
            "each process reads the live rows once per tick)",
        )
        parser.add_argument("--no-collectstatic", action="store_true")

    def _granian(self):
        granian = shutil.which("granian", path=os.path.dirname(sys.executable)) or shutil.which(
            "granian"
        )
        if granian is None:
            self.stderr.write("granian is not installed: pip install -e . (see README)")
            sys.exit(1)
        return granian

    def handle(self, *args, **opts):
        engine = settings.DATABASES["default"]["ENGINE"]
        if engine.endswith("sqlite3") and opts["workers"] > 1:
            self.stderr.write(
                "Several workers on SQLite work, but writes queue on one file lock; "
                "use PostgreSQL (DATABASE_URL=postgres://…) for more than one worker."
            )
        if not opts["no_collectstatic"]:
            call_command("collectstatic", interactive=False, verbosity=0)
        granian = self._granian()
        log_level = os.environ.get("SHOUWANG_SERVER_LOG_LEVEL", "warning")
        pages = [
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
            # Room in the listen queue for a burst of phones (3,000 presses when tickets open):
            # with granian's default 1024 the kernel falls back to SYN cookies and resets
            # connections (benchmarks/queue_take.py). It is capped at net.core.somaxconn
            # (4096 by default since Linux 5.4).
            "--backlog",
            "4096",
            # A worker that does not stop within 5 s of SIGTERM is killed, so stopping never
            # hangs on a stuck request or stream.
            "--workers-kill-timeout",
            "5",
            "--no-ws",
            "--log-level",
            log_level,
            "config.wsgi:application",
        ]
        stream_port = opts["stream_port"]
        env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings"}
        pages_env = dict(env)
        self.stdout.write(
            f"Shouwang on http://{opts['host']}:{opts['port']}/ "
            f"({opts['workers']} worker(s) × {opts['threads']} threads, {engine.rsplit('.', 1)[-1]})"
        )
        children = []
        if stream_port:
            open_files = _raise_open_files_limit()
            streams = [
                granian,
                "--interface",
                "asgi",
                "--host",
                opts["host"],
                "--port",
                str(stream_port),
                "--workers",
                str(opts["stream_workers"]),
                # Every open stream is a request in flight: granian's default cap
                # (backlog / workers = 1024) would leave the 1025th watcher waiting.
                "--backpressure",
                str(max(open_files, 1024)),
                "--backlog",
                "4096",
                "--workers-kill-timeout",
                "5",
                # hyper's per-connection buffer: 8 KB (the least) instead of ~400 KB keeps
                # 10 KB per idle watcher (27 → 17 KB measured); stream requests are small GETs.
                "--http1-buffer-size",
                "8192",
                "--no-ws",
                "--log-level",
                log_level,
                "config.asgi:application",
            ]
            if "SHOUWANG_STREAM_URL" not in os.environ:
                # Pages point browsers at the stream server: the page's host, this port. Set
                # (even empty: same origin, behind a proxy), the operator's value stands.
                pages_env["SHOUWANG_STREAM_URL"] = f":{stream_port}"
            self.stdout.write(
                f"Live streams on http://{opts['host']}:{stream_port}/q/stream/ "
                f"({opts['stream_workers']} worker(s), ASGI; pages send browsers to "
                f"{pages_env.get('SHOUWANG_STREAM_URL') or 'the same origin'})"
            )
        self.stdout.flush()
        children.append(subprocess.Popen(pages, env=pages_env))
        if stream_port:
            children.append(subprocess.Popen(streams, env=env))
        sys.exit(supervise(children))


def supervise(children: list[subprocess.Popen]) -> int:
    """Wait until a child ends or we are told to stop; then stop the others. The exit code is
    the first child's to end (0 when we were told to stop).

    Once told to stop, nothing waits longer than STOP_GRACE_SECONDS: a granian whose worker was
    signalled directly (a process-group SIGTERM) may respawn it instead of exiting, and a
    supervisor blocked in wait() would then never return."""
    stop_at: float | None = None

    def stop(signum, frame):
        nonlocal stop_at
        stop_at = time.monotonic()
        for p in children:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    first = None
    while first is None:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            break
        if pid == 0:
            if stop_at is not None and time.monotonic() - stop_at > STOP_GRACE_SECONDS:
                break
            time.sleep(0.1)
            continue
        for p in children:
            if p.pid == pid:
                p.returncode = os.waitstatus_to_exitcode(status)
                first = p
    for p in children:
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
    deadline = (stop_at or time.monotonic()) + STOP_GRACE_SECONDS
    for p in children:
        try:
            p.wait(timeout=max(deadline - time.monotonic(), 0.1))
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
    stopping = stop_at is not None
    if stopping or first is None:
        return 0
    code = first.returncode
    return code if code and code > 0 else 1
