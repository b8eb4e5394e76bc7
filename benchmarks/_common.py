"""Shared plumbing for benchmark scenarios: a throwaway database, timing, and the result file.

A scenario is a script in benchmarks/ run in its own process (settings are read once per
process). It calls `database(kind)` before importing any model: that points DATABASE_URL and
SHOUWANG_VAR_DIR at throwaway places, runs django.setup() and migrate, and removes everything
on the way out. Figures go to the harness through `Results.save()` (a JSON file).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

# The server the PostgreSQL runs use; the benchmark creates and drops its own database there.
PG_ADMIN_URL = os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432/postgres")


def log(*args) -> None:
    print(*args, flush=True)


# --- the throwaway database ----------------------------------------------------------------


def _pg_url(dbname: str) -> str:
    base, _, _old = PG_ADMIN_URL.rpartition("/")
    return f"{base}/{dbname}"


def _pg_admin(sql: str) -> None:
    import psycopg

    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(sql)


@contextlib.contextmanager
def database(kind: str, *, migrate: bool = True):
    """Set up a fresh database of `kind` ("sqlite" or "postgres") and Django on it."""
    tmp = Path(tempfile.mkdtemp(prefix="shouwang_bench_"))
    pg_name = None
    if kind == "sqlite":
        url = f"sqlite:///{tmp / 'bench.sqlite3'}"
    elif kind == "postgres":
        pg_name = f"shouwang_bench_{os.getpid()}"
        _pg_admin(f'DROP DATABASE IF EXISTS "{pg_name}"')
        _pg_admin(f'CREATE DATABASE "{pg_name}"')
        url = _pg_url(pg_name)
    else:
        raise SystemExit(f"unknown database {kind!r} (sqlite or postgres)")
    os.environ["DATABASE_URL"] = url
    os.environ["SHOUWANG_VAR_DIR"] = str(tmp / "var")
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
    # Clean up on SIGTERM too (the harness or a user stopping the run), not only on exit.
    previous = signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        import django

        django.setup()
        if migrate:
            from django.core.management import call_command

            started = time.perf_counter()
            call_command("migrate", verbosity=0, interactive=False)
            log(f"  [{kind}] migrated a fresh database in {time.perf_counter() - started:.1f} s")
        yield url
    finally:
        with contextlib.suppress(Exception):
            from django.db import connections

            connections.close_all()
        if pg_name:
            try:
                _pg_admin(f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)')
            except Exception as e:  # noqa: BLE001 - report, never hide the benchmark's own error
                log(f"  warning: could not drop database {pg_name}: {e}")
        shutil.rmtree(tmp, ignore_errors=True)
        signal.signal(signal.SIGTERM, previous)


def database_version(kind: str) -> str:
    from django.db import connection

    with connection.cursor() as cur:
        if kind == "postgres":
            cur.execute("SHOW server_version")
        else:
            cur.execute("SELECT sqlite_version()")
        return f"{'PostgreSQL' if kind == 'postgres' else 'SQLite'} {cur.fetchone()[0]}"


def machine() -> dict:
    info = {
        "nproc": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
    }
    with contextlib.suppress(Exception):
        info["load_average"] = [round(x, 2) for x in os.getloadavg()]
    with contextlib.suppress(Exception):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                info["cpu"] = line.split(":", 1)[1].strip()
                break
    with contextlib.suppress(Exception):
        out = subprocess.run(
            ["psql", "--version"], capture_output=True, text=True, timeout=5
        ).stdout.strip()
        info["psql"] = out
    return info


def code_fingerprint(paths: list[str]) -> dict[str, str]:
    """Short hashes of the files under test: other people edit them while benchmarks run."""
    import hashlib

    out = {}
    for rel in paths:
        with contextlib.suppress(OSError):
            out[rel] = hashlib.sha256((ROOT / rel).read_bytes()).hexdigest()[:12]
    return out


# --- timing ------------------------------------------------------------------------------

_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def server_cpu() -> float:
    """CPU seconds used so far by this process's PostgreSQL backend (0 for SQLite, or when the
    server is not on this machine): SQLite works inside our process, PostgreSQL does not."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return 0.0
    try:
        with connection.cursor() as cur:
            cur.execute("SELECT pg_backend_pid()")
            pid = cur.fetchone()[0]
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / _TICK  # utime, stime
    except (OSError, IndexError, ValueError):
        return 0.0


@dataclass
class Timed:
    wall: float
    cpu: float  # this process
    server_cpu: float = 0.0  # the PostgreSQL backend serving this process
    value: object = None


def timed(fn, *args, with_server: bool = False, **kwargs) -> Timed:
    server0 = server_cpu() if with_server else 0.0
    cpu0, wall0 = time.process_time(), time.perf_counter()
    value = fn(*args, **kwargs)
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    server = server_cpu() - server0 if with_server else 0.0
    return Timed(wall, cpu, server, value)


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100)."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = max(0, min(len(ordered) - 1, round(p / 100 * len(ordered) + 0.5) - 1))
    return ordered[k]


def latency_summary(seconds: list[float]) -> dict:
    ms = [s * 1000 for s in seconds]
    return {
        "n": len(ms),
        "p50": statistics.median(ms),
        "p95": percentile(ms, 95),
        "max": max(ms),
    }


# --- results -----------------------------------------------------------------------------


@dataclass
class Metric:
    name: str
    ours: float
    baseline: float | None
    unit: str  # "rows/s" (higher is better) or "ms" (lower is better)
    baseline_name: str = ""
    target: str = ""
    passed: bool | None = None
    note: str = ""

    @property
    def ratio(self) -> float | None:
        if not self.baseline:
            return None
        return self.ours / self.baseline


@dataclass
class Results:
    scenario: str
    database: str
    title: str
    metrics: list[Metric] = field(default_factory=list)
    info: dict = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    sections: dict[str, str] = field(default_factory=dict)  # name -> preformatted text

    def add(self, metric: Metric) -> Metric:
        self.metrics.append(metric)
        return metric

    def save(self, path: str | None) -> None:
        if not path:
            return
        data = asdict(self)
        for m, d in zip(self.metrics, data["metrics"], strict=True):
            d["ratio"] = m.ratio
        Path(path).write_text(json.dumps(data, ensure_ascii=False, indent=1))


def scenario_args(
    description: str, default_databases: tuple[str, ...], extra=None
) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument(
        "--database",
        choices=["sqlite", "postgres"],
        default=default_databases[0],
        help=f"default {default_databases[0]}",
    )
    parser.add_argument("--result-file", help="where the harness wants the JSON figures")
    parser.add_argument("--profile", action="store_true", help="also profile with pyinstrument")
    parser.add_argument("--quick", action="store_true", help="smaller sizes, for a smoke run")
    if extra is not None:
        extra(parser)
    return parser.parse_args()
