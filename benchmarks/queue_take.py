"""Take a number: a burst of 3,000 ticket requests for 300 tickets, against a bare Django view
doing one INSERT, both served by the product's granian command, in the same run.

The scenario builds a community of 3,000 households, each with an active household link and a
resident session made directly in the database (what opening the link gives a phone), then
starts the pages server the product ships — the granian command `shouwang serve` runs (read from
the command itself: WSGI, 1 worker on SQLite, 2 on PostgreSQL, 1 thread each, backpressure 16) on
config.wsgi — and fires every household's POST /my/households/<hh>/queue/<day>/take/ (queues:take)
at once from one asyncio process, each on its own connection with its own session and CSRF
cookies; 10 households press twice, at the same instant. The server answers them through the
quick path config/wsgi.py puts in front of Django (shouwang/queues/quick.py; SHOUWANG_QUICK_TAKE=0
in the environment sends them through the full middleware stack instead).

Interleaved, round after round, every server started with the same granian command:

* baseline: benchmarks/_queue_take_app.py, BENCH_APP=insert — no middleware, one view, one ORM
  INSERT — hit by the same burst (same cookies, same body);
* take, sold out: a first-come day with 300 tickets (3,010 requests: 300 tickets, 10 repeated
  presses, the rest refused as sold out);
* references: the INSERT with a raw cursor; the ORM INSERT behind the product's middleware;
* take, all issued: a day with 3,000 tickets, so every request issues a ticket.

After each burst the database must hold exactly the day's tickets (300, or 3,000), numbered
1..N without a gap or a repeat, at most one per household, `issued` = N; every ticket answer
must name a ticket of that household (both presses of a double presser the same one), every
ticket must have been told to its household, and no answer may be a 5xx. Requests that got no
HTTP answer at all (a connection reset when the listen queue overflows) are counted apart.

Figures: answered requests per second over the burst (first request sent to last answer) and
per server CPU-second (the granian process tree's time on a CPU, from /proc schedstat; on PostgreSQL the
server's backends' CPU is reported beside it). Target: ≥ 50 % of the baseline. Below it, the
take path is profiled in process (queries per request, cProfile).

    .venv/bin/python benchmarks/queue_take.py --database sqlite [--households 3000]
        [--tickets 300] [--rounds 3] [--max-open 0] [--backlog N] [--profile]
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (  # noqa: E402
    ROOT,
    Metric,
    Results,
    code_fingerprint,
    database,
    database_version,
    latency_summary,
    log,
    machine,
)

TITLE = "Take a number: a burst of 3,000 requests for 300 tickets"
DEFAULT_DATABASES = ("sqlite", "postgres")
HOUSEHOLDS = int(os.environ.get("BENCH_QUEUE_HOUSEHOLDS", "3000"))
TICKETS = int(os.environ.get("BENCH_QUEUE_TICKETS", "300"))
ROUNDS = int(os.environ.get("BENCH_QUEUE_ROUNDS", "3"))
DOUBLE = 10  # households that press twice, at the same instant
TARGET_RATIO = 0.5
SEED = 4
CODE = [
    "config/wsgi.py",
    "shouwang/queues/quick.py",
    "shouwang/core/rawrows.py",
    "shouwang/queues/services.py",
    "shouwang/queues/views/public.py",
    "shouwang/queues/models.py",
    "shouwang/residents/access.py",
    "shouwang/core/management/commands/serve.py",
    "config/settings.py",
]
_TICK = os.sysconf("SC_CLK_TCK")
TABLE = "bench_insert"  # the baseline's table; _queue_take_app.py writes to it


# --- the servers -----------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class _Captured(Exception):
    pass


def serve_argv(port: int, workers: int) -> list[str]:
    """The granian command `shouwang serve` starts for the pages (WSGI), taken from the command
    itself (its first subprocess is intercepted, nothing is started), so that ours and the
    baseline run exactly the shipped server configuration."""
    import io
    from unittest import mock

    from django.core.management import call_command

    from shouwang.core.management.commands import serve

    captured: list[list[str]] = []

    def popen(argv, *args, **kwargs):
        captured.append(list(argv))
        raise _Captured

    with mock.patch.object(serve.subprocess, "Popen", popen), contextlib.suppress(_Captured):
        call_command(
            "serve",
            host="127.0.0.1",
            port=port,
            workers=workers,
            stream_port=0,
            no_collectstatic=True,
            stdout=io.StringIO(),
            stderr=io.StringIO(),
        )
    if not captured or captured[0][-1] != "config.wsgi:application":
        raise SystemExit(
            f"could not read the pages server's command from `shouwang serve`: {captured}"
        )
    return captured[0]


def granian_argv(target: str, port: int, workers: int, *, backlog: int = 0) -> list[str]:
    """`shouwang serve`'s pages command for another WSGI target (and, to try it, a listen
    backlog other than granian's default 1024)."""
    argv = serve_argv(port, workers)[:-1]
    if backlog:
        argv += ["--backlog", str(backlog)]
    return [*argv, target]


@dataclass
class Server:
    name: str
    target: str
    app: str  # BENCH_APP for benchmarks/_queue_take_app.py ("" for the product)
    workers: int
    db_url: str
    backlog: int = 0
    port: int = 0
    proc: subprocess.Popen | None = None
    log_path: Path | None = None

    @property
    def application_name(self) -> str:
        return f"bench_{self.name}"

    def start(self, tmp: Path) -> None:
        self.port = _free_port()
        env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings"}
        url = self.db_url
        if url.startswith("postgres"):
            # Names the server's backends in pg_stat_activity, to read their CPU.
            url += ("&" if "?" in url else "?") + f"application_name={self.application_name}"
        env["DATABASE_URL"] = url
        if self.app:
            env["BENCH_APP"] = self.app
        self.log_path = tmp / f"server_{self.name}.log"
        argv = granian_argv(self.target, self.port, self.workers, backlog=self.backlog)
        with open(self.log_path, "wb") as out:
            self.proc = subprocess.Popen(
                argv,
                cwd=ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit(f"server {self.name} exited:\n{self.log_tail()}")
            with contextlib.suppress(OSError):
                status, _h, _b = http_request(self.port, "GET", "/healthz", timeout=5)
                if status:
                    return
            time.sleep(0.2)
        raise SystemExit(f"server {self.name} did not answer in 60 s:\n{self.log_tail()}")

    def log_tail(self, n: int = 40) -> str:
        if self.log_path is None or not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-n:])

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)  # our own server's group
            self.proc.wait(timeout=5)

    def pids(self) -> list[int]:
        """The granian process and its descendants (the workers)."""
        assert self.proc is not None
        parents: dict[int, int] = {}
        for entry in os.scandir("/proc"):
            if not entry.name.isdigit():
                continue
            with contextlib.suppress(OSError, IndexError, ValueError):
                stat = Path(f"/proc/{entry.name}/stat").read_text()
                parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
        tree = [self.proc.pid]
        for pid in tree:
            tree += [child for child, parent in parents.items() if parent == pid]
        return tree

    def cpu(self) -> float:
        return sum(_proc_cpu(pid) for pid in self.pids())

    def db_cpu(self) -> dict[int, float]:
        """CPU seconds of this server's PostgreSQL backends, by pid (empty on SQLite)."""
        from django.db import connection

        if connection.vendor != "postgresql":
            return {}
        with connection.cursor() as cur:
            cur.execute(
                "SELECT pid FROM pg_stat_activity WHERE application_name = %s",
                [self.application_name],
            )
            return {pid: _proc_cpu(pid) for (pid,) in cur.fetchall()}


def _proc_cpu(pid: int) -> float:
    """CPU seconds of a process: the sum over its threads of the scheduler's time on a CPU
    (/proc/<pid>/task/<tid>/schedstat, nanoseconds) — a 500-request burst of the baseline takes
    about 0.1 s of CPU, where /proc/<pid>/stat's clock ticks (10 ms) would make ±10 % of it.
    The server's threads live through the run (granian keeps idle threads 30 s; bursts are
    0.5 s apart). Where schedstat is not there, utime + stime from /proc/<pid>/stat."""
    total, found = 0, False
    with contextlib.suppress(OSError):
        for tid in os.listdir(f"/proc/{pid}/task"):
            with contextlib.suppress(OSError, IndexError, ValueError):
                total += int(Path(f"/proc/{pid}/task/{tid}/schedstat").read_text().split()[0])
                found = True
    if found:
        return total / 1e9
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / _TICK  # utime, stime
    except (OSError, IndexError, ValueError):
        return 0.0


# --- the client: one connection per request, all at once ------------------------------------


def http_request(port: int, method: str, path: str, *, headers=None, body=b"", timeout=30):
    """A blocking one-off request (probes, warm-up checks): (status, headers, body)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(_request_bytes(port, method, path, headers or {}, body))
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    return _parse(data)


def _request_bytes(port: int, method: str, path: str, headers: dict, body: bytes) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", f"Host: 127.0.0.1:{port}", "Connection: close"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    if body or method == "POST":
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def _parse(data: bytes) -> tuple[int, dict[str, str], bytes]:
    head, _sep, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    try:
        status = int(lines[0].split()[1])
    except (IndexError, ValueError):
        return 0, {}, data
    headers = {}
    for line in lines[1:]:
        k, _c, v = line.partition(":")
        headers[k.strip().lower()] = v.strip()
    return status, headers, body


@dataclass
class Answer:
    status: int  # 0: no HTTP answer (the error says why)
    location: str
    body: bytes
    sent: float  # request written (perf_counter)
    done: float
    error: str = ""


class _OneRequest(asyncio.Protocol):
    def __init__(self, payload: bytes, done: asyncio.Future):
        self.payload = payload
        self.done = done
        self.chunks: list[bytes] = []
        self.sent = 0.0

    def connection_made(self, transport):
        transport.write(self.payload)
        self.sent = time.perf_counter()

    def data_received(self, data):
        self.chunks.append(data)

    def connection_lost(self, exc):
        if not self.done.done():
            self.done.set_result((b"".join(self.chunks), exc))


async def _fire(port: int, payloads: list[bytes], max_open: int, timeout: float) -> list[Answer]:
    loop = asyncio.get_running_loop()
    gate = asyncio.Semaphore(max_open or len(payloads))

    async def one(payload: bytes) -> Answer:
        async with gate:
            started = time.perf_counter()
            done = loop.create_future()
            try:
                transport, proto = await asyncio.wait_for(
                    loop.create_connection(lambda: _OneRequest(payload, done), "127.0.0.1", port),
                    timeout,
                )
                data, exc = await asyncio.wait_for(done, timeout)
            except (OSError, TimeoutError) as e:
                now = time.perf_counter()
                return Answer(0, "", b"", started, now, error=type(e).__name__)
            now = time.perf_counter()
            transport.close()
            status, headers, body = _parse(data)
            error = "" if status else (type(exc).__name__ if exc else "no answer")
            return Answer(status, headers.get("location", ""), body[:300], proto.sent, now, error)

    tasks = [asyncio.ensure_future(one(p)) for p in payloads]
    return await asyncio.gather(*tasks)


@dataclass
class Burst:
    label: str
    answers: list[Answer]
    started: float
    wall: float  # first request started → last answer
    offered: float  # first request written → last request written
    cpu: float  # server process tree
    db_cpu: float  # PostgreSQL backends of the server (0 on SQLite)
    client_cpu: float
    checks: dict = field(default_factory=dict)

    @property
    def answered(self) -> int:
        return sum(1 for a in self.answers if a.status and a.status < 500)

    @property
    def rate(self) -> float:
        return self.answered / self.wall

    @property
    def per_cpu(self) -> float:
        return self.answered / self.cpu if self.cpu else float("nan")

    @property
    def per_cpu_with_db(self) -> float:
        total = self.cpu + self.db_cpu
        return self.answered / total if total else float("nan")

    def statuses(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for a in self.answers:
            key = str(a.status) if a.status else f"error:{a.error}"
            out[key] = out.get(key, 0) + 1
        return dict(sorted(out.items()))

    def summary(self) -> dict:
        lat = latency_summary([a.done - a.sent for a in self.answers if a.status])
        return {
            "requests": len(self.answers),
            "answered": self.answered,
            "statuses": self.statuses(),
            "wall_s": round(self.wall, 3),
            "offered_s": round(self.offered, 3),
            "answered_per_s": round(self.rate, 1),
            "server_cpu_s": round(self.cpu, 2),
            "db_cpu_s": round(self.db_cpu, 2),
            "client_cpu_s": round(self.client_cpu, 2),
            "per_server_cpu_s": round(self.per_cpu, 1),
            "latency_ms": {k: round(v, 1) for k, v in lat.items()},
            **({"checks": self.checks} if self.checks else {}),
        }


def burst(server: Server, label: str, payloads: list[bytes], *, max_open: int) -> Burst:
    db0 = server.db_cpu()
    cpu0, client0 = server.cpu(), time.process_time()
    started = time.perf_counter()
    answers = asyncio.run(_fire(server.port, payloads, max_open, timeout=120))
    ended = max(a.done for a in answers)
    cpu, client = server.cpu() - cpu0, time.process_time() - client0
    db1 = server.db_cpu()
    db = sum(v - db0.get(pid, 0.0) for pid, v in db1.items())
    sent = [a.sent for a in answers if a.sent]
    b = Burst(
        label,
        answers,
        started,
        wall=ended - started,
        offered=(max(sent) - started) if sent else float("nan"),
        cpu=cpu,
        db_cpu=db,
        client_cpu=client,
    )
    log(
        f"    {label:<34} {len(answers):>5} req  offered in {b.offered:5.2f} s, "
        f"done in {b.wall:5.2f} s  {b.rate:7.0f} answered/s  {b.per_cpu:7.0f} /server-CPU-s"
        + (f" ({b.per_cpu_with_db:.0f} with PostgreSQL's)" if b.db_cpu else "")
        + f"  {b.statuses()}"
    )
    return b


# --- the data --------------------------------------------------------------------------------


@dataclass
class Household:
    pk: int
    cookie: str  # Cookie header: session and CSRF
    csrf: str


def build_community(n: int) -> tuple[object, object, list[Household]]:
    """A community of n households in 30 buildings, each with an active household link and a
    resident session (as if every household had opened its card's QR)."""
    import datetime as dt

    from django.conf import settings
    from django.contrib.sessions.backends.db import SessionStore
    from django.contrib.sessions.models import Session
    from django.utils import timezone
    from django.utils.crypto import get_random_string

    from shouwang.accounts.models import Role, User
    from shouwang.core import crypto
    from shouwang.queues.models import QueuePoint
    from shouwang.registry.models import Building, Community, Compound, Dwelling, Unit
    from shouwang.registry.models import Household as HH
    from shouwang.residents import tokens
    from shouwang.residents.access import SESSION_KEY
    from shouwang.residents.models import HouseholdLink

    started = time.perf_counter()
    community = Community.objects.create(code="QB", name="排队基准社区")
    compound = Compound.objects.create(community=community, name="松林小区")
    n_buildings = 30
    buildings = Building.objects.bulk_create(
        [
            Building(community=community, compound=compound, name=f"{i}号楼")
            for i in range(1, n_buildings + 1)
        ]
    )
    units = Unit.objects.bulk_create(
        [Unit(community=community, building=b, name="1单元") for b in buildings]
    )
    dwellings = Dwelling.objects.bulk_create(
        [
            Dwelling(
                community=community,
                building=buildings[i % n_buildings],
                unit=units[i % n_buildings],
                door=f"{i // n_buildings // 4 + 1}{i // n_buildings % 4 + 1:02d}",
            )
            for i in range(n)
        ]
    )
    households = HH.objects.bulk_create(
        [HH(community=community, dwelling=d, building_id=d.building_id, size=3) for d in dwellings],
        batch_size=1000,
    )
    links = []
    for h in households:
        token = tokens.new_link_token()
        links.append(
            HouseholdLink(
                community=community,
                household=h,
                token_hash=tokens.link_hash(token),
                token_enc=crypto.encrypt(token),
            )
        )
    links = HouseholdLink.objects.bulk_create(links, batch_size=1000)
    store = SessionStore()
    expiry = settings.RESIDENT_SESSION_DAYS * 86400
    expire_date = timezone.now() + dt.timedelta(seconds=expiry)
    now = int(time.time())
    sessions, out = [], []
    for link in links:
        key = get_random_string(32, "abcdefghijklmnopqrstuvwxyz0123456789")
        data = {
            SESSION_KEY: {"link": link.pk, "hh": [link.household_id], "phone": "", "at": now},
            "_session_expiry": expiry,
        }
        sessions.append(
            Session(session_key=key, session_data=store.encode(data), expire_date=expire_date)
        )
        csrf = get_random_string(32)
        cookie = f"{settings.SESSION_COOKIE_NAME}={key}; {settings.CSRF_COOKIE_NAME}={csrf}"
        out.append(Household(link.household_id, cookie, csrf))
    Session.objects.bulk_create(sessions, batch_size=1000)
    admin = User.objects.create(
        username="bench_queue_admin", role=Role.ADMIN, community=community, display_name="基准"
    )
    point = QueuePoint.objects.create(community=community, name="松林超市摊位", location="南门")
    log(
        f"  {n:,} households with links and resident sessions, a queue point: "
        f"{time.perf_counter() - started:.1f} s"
    )
    return admin, point, out


def new_day(admin, point, tickets: int, title: str):
    import datetime as dt

    from django.utils import timezone

    from shouwang.queues import services

    now = timezone.now()
    return services.day_create(
        actor=admin,
        point=point,
        date=timezone.localdate(),
        title=title,
        take_opens_at=now - dt.timedelta(minutes=1),
        take_closes_at=now + dt.timedelta(hours=3),
        sale_starts_at=now + dt.timedelta(hours=1),
        sale_ends_at=now + dt.timedelta(hours=4),
        tickets_total=tickets,
    )


def create_insert_table() -> None:
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute(f"DROP TABLE IF EXISTS {TABLE}")
        if connection.vendor == "postgresql":
            cur.execute(
                f"CREATE TABLE {TABLE} (id bigserial PRIMARY KEY, hh bigint NOT NULL, "
                "at double precision NOT NULL)"
            )
        else:
            cur.execute(
                f"CREATE TABLE {TABLE} (id integer PRIMARY KEY AUTOINCREMENT, "
                "hh bigint NOT NULL, at real NOT NULL)"
            )


# --- the requests ----------------------------------------------------------------------------

# What each server is asked: the household page's take, and the baseline's INSERT (same
# cookies, same body).
PATHS = {
    "take": "/my/households/{hh}/queue/{day}/take/",
    "insert": "/bench/insert/{hh}/{day}/",
}


def press_order(households: list[Household], rng: random.Random) -> list[Household]:
    """Every household once, in a random order; the first DOUBLE press a second time right
    after everyone's first press of that instant (the pairs race each other)."""
    order = households[:]
    rng.shuffle(order)
    doubles = order[:DOUBLE]
    return order[:DOUBLE] + doubles + order[DOUBLE:]


def payloads(port: int, kind: str, order: list[Household], day_pk: int) -> list[bytes]:
    out = []
    for h in order:
        body = f"csrfmiddlewaretoken={h.csrf}&notify=page".encode()
        headers = {
            "Cookie": h.cookie,
            "X-CSRFToken": h.csrf,
            "Content-Type": "application/x-www-form-urlencoded",
            "Accept-Language": "en",
        }
        path = PATHS[kind].format(hh=h.pk, day=day_pk)
        out.append(_request_bytes(port, "POST", path, headers, body))
    return out


def follow_key_of(location: str) -> str | None:
    """The ticket page a successful take redirects to: /q/t/<key>/."""
    marker = "/q/t/"
    if marker not in location:
        return None
    return location.split(marker, 1)[1].split("/", 1)[0]


def verify(
    day, order: list[Household], answers: list[Answer], expected: int, *, all_issued: bool
) -> dict:
    """The burst's outcome, from the database and the answers.

    A request without an HTTP answer (the connection reset before one came) is counted apart
    from a 5xx: its household may or may not hold a ticket it was not told about, so it is left
    out of "every ticket was told to its household" and of the all-issued count — and reported,
    as a phone would show a network error."""
    from django.db.models import Count

    from shouwang.queues.models import SaleDay, Ticket

    day = SaleDay.objects.get(pk=day.pk)
    rows = list(Ticket.objects.filter(day=day).values_list("number", "household_id", "follow_key"))
    numbers = sorted(n for n, _h, _k in rows)
    per_household = (
        Ticket.objects.filter(day=day).values("household_id").annotate(n=Count("pk")).order_by()
    )
    most = max((r["n"] for r in per_household), default=0)
    keys = {k: h for _n, h, k in rows}
    told: dict[int, set[str]] = {}
    refused = ticket_answers = http_5xx = no_answer = other = 0
    wrong_household = unknown_key = 0
    unanswered: set[int] = set()
    for h, a in zip(order, answers, strict=True):
        key = follow_key_of(a.location) if 300 <= a.status < 400 else None
        if key is not None:
            ticket_answers += 1
            told.setdefault(h.pk, set()).add(key)
            if key not in keys:
                unknown_key += 1
            elif keys[key] != h.pk:
                wrong_household += 1
        elif 300 <= a.status < 400 or a.status in (200, 409):
            # Sold out: back to the household page with the message (or a 409 page).
            refused += 1
        elif a.status >= 500:
            http_5xx += 1
        elif a.status == 0:
            no_answer += 1
            unanswered.add(h.pk)
        else:
            other += 1
    households_in_burst = {h.pk for h in order}
    doubled = [h.pk for h in order[DOUBLE : 2 * DOUBLE]]
    told_keys = {k for s in told.values() for k in s}
    untold = [k for k, hh in keys.items() if k not in told_keys and hh not in unanswered]
    answered = {h.pk for h, a in zip(order, answers, strict=True) if a.status}
    # Households whose every press was lost may or may not have reached the server.
    lost_only = unanswered - answered
    if all_issued:
        # Every household that got an answer got a ticket; the lost ones may have one too.
        count_ok = len(told) <= len(rows) <= len(told) + len(lost_only) and refused == 0
    else:
        # The day's every ticket went, as more households asked than there were tickets.
        count_ok = len(rows) == expected if len(answered) >= expected else len(rows) <= expected
    checks = {
        "tickets": len(rows),
        "tickets_total": expected,
        "issued_counter": day.issued,
        "numbers_1_to_n": numbers == list(range(1, len(rows) + 1)),
        "max_tickets_per_household": most,
        "ticket_households_in_burst": all(h in households_in_burst for _n, h, _k in rows),
        "ticket_answers": ticket_answers,
        "refused_answers": refused,
        "http_5xx": http_5xx,
        "no_answer": no_answer,
        "other_answers": other,
        "answers_naming_a_missing_ticket": unknown_key,
        "answers_naming_another_households_ticket": wrong_household,
        "households_told_two_different_tickets": sum(1 for s in told.values() if len(s) > 1),
        "tickets_never_told": len(untold),
        "households_never_answered": len(lost_only),
        "tickets_of_households_whose_answer_was_lost": sum(
            1 for hh in keys.values() if hh in unanswered
        ),
        "double_pressers_with_a_ticket": sum(1 for pk in doubled if pk in told),
        "count_ok": count_ok,
    }
    checks["ok"] = (
        count_ok
        and day.issued == len(rows)
        and checks["numbers_1_to_n"]
        and most <= 1
        and checks["ticket_households_in_burst"]
        and http_5xx == 0
        and other == 0
        and unknown_key == 0
        and wrong_household == 0
        and checks["households_told_two_different_tickets"] == 0
        and not untold
    )
    return checks


def probe(port: int, kind: str, h: Household, day_pk: int) -> tuple[int, str]:
    payload = payloads(port, kind, [h], day_pk)[0]
    with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
        s.sendall(payload)
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    status, headers, body = _parse(data)
    return status, headers.get("location", "") or body[:200].decode(errors="replace")


# --- profiling in process --------------------------------------------------------------------


def profile_take(admin, point, households: list[Household], n: int = 300) -> str:
    """Queries per request (CaptureQueriesContext) for queues:take — a new
    ticket, a second press, a sold-out refusal — then the time per request without and with
    cProfile, through Django's test client with the quick path in front of it as config/wsgi.py
    puts it (CSRF enforced, the resident session cookie, the form urlencoded as a browser sends
    it), in this process (one handler, loaded once, as in a server worker)."""
    import cProfile
    import io
    import pstats

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from shouwang.queues.tests.conftest import QuickClient

    client = QuickClient(enforce_csrf_checks=True)

    def press(kind: str, h: Household, day_pk: int):
        client.cookies.clear()
        client.cookies.load(dict(p.split("=", 1) for p in h.cookie.split("; ")))
        return client.post(
            PATHS[kind].format(hh=h.pk, day=day_pk),
            {"csrfmiddlewaretoken": h.csrf, "notify": "page"},
            HTTP_X_CSRFTOKEN=h.csrf,
            HTTP_ACCEPT_LANGUAGE="en",
        )

    out = []
    per_kind = max(1, (len(households) - 2) // 2)
    for kind, label in (("take", "queues:take"),):
        full = new_day(admin, point, 1, f"profile sold out {kind}")
        day = new_day(admin, point, len(households), f"profile {kind}")
        connection.close()
        first, other = households[0], households[1]
        press(kind, other, full.pk)  # fills the one-ticket day
        for what, h, d in (
            ("a new ticket", first, day),
            ("the same household again", first, day),
            ("sold out", first, full),
        ):
            with CaptureQueriesContext(connection) as ctx:
                r = press(kind, h, d.pk)
            out.append(f"{label}, {what}: HTTP {r.status_code}, {len(ctx)} queries")
            if what == "a new ticket":
                out += [f"    {i + 1:2d}. {q['sql'][:150]}" for i, q in enumerate(ctx)]
        sample = households[2 : 2 + per_kind][:n]
        half = len(sample) // 2
        started, cpu0 = time.perf_counter(), time.process_time()
        for h in sample[:half]:
            press(kind, h, day.pk)
        wall = (time.perf_counter() - started) / max(half, 1) * 1000
        cpu = (time.process_time() - cpu0) / max(half, 1) * 1000
        out.append(
            f"{label}: {wall:.2f} ms wall, {cpu:.2f} ms CPU per new ticket in process "
            f"(test client included; {half} requests)\n"
        )
        if kind == "take":
            profiler = cProfile.Profile()
            profiler.enable()
            for h in sample[half:]:
                press(kind, h, day.pk)
            profiler.disable()
            buf = io.StringIO()
            stats = pstats.Stats(profiler, stream=buf)
            stats.sort_stats("cumulative").print_stats(
                r"shouwang|django/(db|contrib|middleware|core)", 30
            )
            profile_text = buf.getvalue()
    out.append("cProfile of queues:take, cumulative (project and ORM functions):")
    out.append(profile_text)
    return "\n".join(out)


# --- the run ---------------------------------------------------------------------------------


def _median(values):
    values = [v for v in values if v == v]
    return statistics.median(values) if values else float("nan")


def run(
    kind: str,
    n_households: int,
    tickets: int,
    rounds: int,
    max_open: int,
    *,
    backlog: int,
    profile: bool,
) -> Results:
    results = Results("queue_take", kind, TITLE)
    results.info.update(machine())
    results.info["code"] = code_fingerprint([*CODE, "benchmarks/_queue_take_app.py"])
    workers = 1 if kind == "sqlite" else 2
    tmp = Path(tempfile.mkdtemp(prefix="shouwang_bench_queue_"))
    app = "benchmarks._queue_take_app:application"
    with database(kind) as url:
        results.info["database"] = database_version(kind)
        from django.db import connections

        admin, point, households = build_community(n_households)
        create_insert_table()
        rng = random.Random(SEED)
        connections.close_all()

        ours = Server("take", "config.wsgi:application", "", workers, url, backlog)
        base = Server("insert", app, "insert", workers, url, backlog)
        raw = Server("insert_raw", app, "insert_raw", workers, url, backlog)
        ref = Server("insert_mw", app, "insert_mw", workers, url, backlog)
        servers = [ours, base, raw, ref]
        takes = [("take", ours)]
        inserts = [("base", base), ("raw", raw), ("ref", ref)]
        runs: dict[str, list[Burst]] = {}
        try:
            for s in servers:
                s.start(tmp)
            argv = granian_argv("<target>", ours.port, workers, backlog=backlog)
            results.info["server"] = " ".join(["granian", *argv[1:]])
            log(f"  servers, as `shouwang serve` runs the pages: {results.info['server']}")

            probe_day = new_day(admin, point, 10, "probe")
            connections.close_all()
            status, where = probe(ours.port, "take", households[0], probe_day.pk)
            log(f"  probe POST queues:take → {status} {where[:80]}")
            results.info["take_view_probe"] = f"{status} {where[:120]}"
            if follow_key_of(where) is None:
                raise SystemExit(
                    f"queues:take did not hand out a ticket (HTTP {status} {where[:200]}): "
                    "is the view built?"
                )

            # Warm up every thread of every worker: imports, connections, caches.
            warm = households[: min(400, len(households))]
            for key, server in takes:
                day = new_day(admin, point, len(warm), f"warm-up {key}")
                connections.close_all()
                burst(
                    server,
                    f"warm-up {server.name}",
                    payloads(server.port, key, warm, day.pk),
                    max_open=max_open,
                )
            for _key, server in inserts:
                burst(
                    server,
                    f"warm-up {server.name}",
                    payloads(server.port, "insert", warm, 0),
                    max_open=max_open,
                )

            all_ok = True
            for r in range(rounds):
                log(f"  round {r + 1}/{rounds}")
                order = press_order(households, rng)
                plan = [("base", base, None, "")]
                plan += [(f"{k}_sold_out", s, tickets, k) for k, s in takes]
                plan += [("raw", raw, None, ""), ("ref", ref, None, "")]
                plan += [(f"{k}_all", s, len(households), k) for k, s in takes]
                for key, server, total, path_kind in plan:
                    if total is None:
                        b = burst(
                            server,
                            server.name + (" (baseline)" if key == "base" else ""),
                            payloads(server.port, "insert", order, r),
                            max_open=max_open,
                        )
                    else:
                        day = new_day(admin, point, total, f"{key} {r}")
                        connections.close_all()
                        b = burst(
                            server,
                            f"{server.name}, {total:,} tickets",
                            payloads(server.port, path_kind, order, day.pk),
                            max_open=max_open,
                        )
                        b.checks = verify(
                            day, order, b.answers, total, all_issued=key.endswith("_all")
                        )
                        connections.close_all()
                        all_ok &= b.checks["ok"]
                        c = b.checks
                        log(
                            f"      {'ok' if c['ok'] else 'FAILED'}: {c['tickets']} tickets, "
                            f"issued={c['issued_counter']}, 1..N={c['numbers_1_to_n']}, "
                            f"max/household={c['max_tickets_per_household']}, ticket answers "
                            f"{c['ticket_answers']}, refused {c['refused_answers']}, 5xx "
                            f"{c['http_5xx']}, no answer {c['no_answer']}, double pressers with "
                            f"a ticket {c['double_pressers_with_a_ticket']}"
                        )
                    runs.setdefault(key, []).append(b)
                    time.sleep(0.5)
        finally:
            for s in servers:
                s.stop()
            for s in servers:
                if s.proc is not None and s.proc.returncode not in (0, None, -15):
                    log(f"  server {s.name} exited {s.proc.returncode}:\n{s.log_tail()}")

        def med(key, attr):
            return _median([getattr(b, attr) for b in runs[key]])

        n_req = len(runs["base"][0].answers)
        results.info.update(
            households=n_households,
            requests_per_burst=n_req,
            double_pressers=DOUBLE,
            rounds=rounds,
            max_open_connections=max_open,
            bursts={k: [b.summary() for b in v] for k, v in runs.items()},
        )
        base_rate, base_cpu = med("base", "rate"), med("base", "per_cpu")
        baseline_name = "bare Django view, 1 ORM INSERT"
        for take_key, _server in takes:
            for variant, total in (("sold_out", tickets), ("all", n_households)):
                key = f"{take_key}_{variant}"
                checks = [b.checks for b in runs[key]]
                ok = all(c["ok"] for c in checks)
                offered = _median([b.offered for b in runs[key]])
                wall = _median([b.wall for b in runs[key]])
                what = (
                    f"{total:,} of {n_req:,}" if variant == "sold_out" else f"all {total:,} issued"
                )
                who = "take"
                # The target is for the sold-out burst (300 of 3,000); the burst where
                # every press issues a ticket is reported beside it without a target.
                targeted = variant == "sold_out"
                target = "≥ 50 % of the baseline" if targeted else "none (reported only)"
                results.add(
                    Metric(
                        f"{who}, {what}: correct",
                        float(statistics.mean(c["tickets"] for c in checks)),
                        None,
                        "tickets",
                        target=(
                            f"exactly {total:,}, gapless, ≤ 1 per household, no 5xx"
                            if variant == "sold_out"
                            else "1 per answered household, gapless, no 5xx"
                        ),
                        passed=ok,
                        note="; ".join(
                            f"round {i + 1}: {c['tickets']} tickets, issued={c['issued_counter']}"
                            f", gapless={c['numbers_1_to_n']}, max/household="
                            f"{c['max_tickets_per_household']}, ticket answers "
                            f"{c['ticket_answers']}, refused {c['refused_answers']}, 5xx "
                            f"{c['http_5xx']}, no answer (connection reset) {c['no_answer']}"
                            for i, c in enumerate(checks)
                        ),
                    )
                )
                rate, cpu = med(key, "rate"), med(key, "per_cpu")
                results.add(
                    Metric(
                        f"{who}, {what}: requests/s",
                        rate,
                        base_rate,
                        "req/s",
                        baseline_name=baseline_name,
                        target=target,
                        passed=rate >= TARGET_RATIO * base_rate if targeted else None,
                        note=(
                            f"median of {rounds}; offered in {offered:.2f} s, all answered in "
                            f"{wall:.2f} s; answers {runs[key][-1].statuses()}"
                        ),
                    )
                )
                db_note = (
                    f"with the PostgreSQL backends' CPU: {med(key, 'per_cpu_with_db'):,.0f} vs "
                    f"{med('base', 'per_cpu_with_db'):,.0f}"
                    if kind == "postgres"
                    else "granian process tree (SQLite works inside it)"
                )
                results.add(
                    Metric(
                        f"{who}, {what}: requests/server CPU-s",
                        cpu,
                        base_cpu,
                        "req/CPU-s",
                        baseline_name=baseline_name,
                        target=target,
                        passed=cpu >= TARGET_RATIO * base_cpu if targeted else None,
                        note=db_note,
                    )
                )

        def lost(keys):
            return sum(1 for k in keys for b in runs[k] for a in b.answers if a.status == 0)

        take_keys = [k for k in runs if k.startswith("take_")]
        lost_take, lost_base = lost(k for k in take_keys), lost(["base", "raw", "ref"])
        results.add(
            Metric(
                "no HTTP answer (connection reset), take bursts",
                float(lost_take),
                None,
                "requests",
                target="0",
                passed=lost_take == 0,
                note=(
                    f"of {sum(len(b.answers) for k in take_keys for b in runs[k]):,} take "
                    f"requests; {lost_base} in the INSERT bursts. granian's listen backlog "
                    f"({backlog or 1024}) overflowed: SYN cookies, resets (see README)"
                    if lost_take or lost_base
                    else f"listen backlog {backlog or 1024}: every request was answered"
                ),
            )
        )
        for key, label in (
            ("raw", "ref: INSERT with a raw cursor (no ORM), requests/s"),
            ("ref", "ref: INSERT behind the product's middleware, req/s"),
        ):
            results.add(
                Metric(
                    f"{label}",
                    med(key, "rate"),
                    base_rate,
                    "req/s",
                    baseline_name=baseline_name,
                    note=f"per server CPU-s: {med(key, 'per_cpu'):,.0f} vs {base_cpu:,.0f}",
                )
            )
        results.notes.append(
            f"Each burst: {n_req:,} POSTs ({n_households:,} households, {DOUBLE} of them twice at "
            f"the same instant), each on its own connection with its household's session and "
            f"CSRF cookies, from one asyncio client process sharing the machine ("
            + (f"at most {max_open} connections open at once" if max_open else "all at once")
            + "). Rates are answered requests (sold-out "
            "refusals included) over first request → last answer; CPU is the granian process "
            "tree's time on a CPU (/proc/<pid>/task/*/schedstat)."
        )
        if not all_ok:
            results.notes.append("A CORRECTNESS CHECK FAILED: see the checks in the details.")
        ratios = [
            m.ratio
            for m in results.metrics
            if m.passed is not None and m.unit.startswith("req") and m.ratio is not None
        ]
        if profile or min(ratios, default=1) < TARGET_RATIO:
            log("  profiling the take path in process ...")
            results.sections["take profile"] = profile_take(admin, point, households)
            log(results.sections["take profile"])
    shutil.rmtree(tmp, ignore_errors=True)
    return results


def main() -> None:
    from _common import scenario_args

    def extra(parser):
        parser.add_argument("--households", type=int, default=HOUSEHOLDS)
        parser.add_argument("--tickets", type=int, default=TICKETS)
        parser.add_argument("--rounds", type=int, default=ROUNDS)
        parser.add_argument(
            "--max-open",
            type=int,
            default=int(os.environ.get("BENCH_QUEUE_MAX_OPEN", "0")),
            help="connections the client opens at once (default 0: every request at once)",
        )
        parser.add_argument(
            "--backlog",
            type=int,
            default=0,
            help="add granian --backlog N to every server (default: as `shouwang serve`, "
            "granian's 1024), to try a larger listen queue",
        )

    args = scenario_args(__doc__.splitlines()[0], DEFAULT_DATABASES, extra)
    if args.backlog:
        log(f"  every server with --backlog {args.backlog} (not what `shouwang serve` runs)")
    n, tickets, rounds = args.households, args.tickets, args.rounds
    if args.quick:
        n, tickets, rounds = min(n, 600), min(tickets, 60), 1
    log(f"{TITLE} — {n:,} households, {tickets:,} tickets, {rounds} round(s), on {args.database}")
    results = run(
        args.database,
        n,
        tickets,
        rounds,
        args.max_open,
        backlog=args.backlog,
        profile=args.profile,
    )
    results.save(args.result_file)


if __name__ == "__main__":
    main()
