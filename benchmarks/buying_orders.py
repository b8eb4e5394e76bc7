"""Group buying: a window opens and 2,000 households order within 10 s against stock for 500 —
no overselling — beside a bare-insert baseline served the same way, in the same run; then the
picking list for a window of 3,000 orders.

The servers, the burst client and the community of households with resident sessions are
benchmarks/queue_take.py's (imported, not copied): the product's own granian command (`shouwang
serve`: WSGI, 1 worker on SQLite, 2 on PostgreSQL) on config.wsgi, and the baseline
benchmarks/_queue_take_app.py (BENCH_APP=insert: no middleware, one ORM INSERT). Every
household POSTs the household page's order form (buying:place, one vegetable box, limit 1) at
once from one asyncio process, each with its own session and CSRF cookies; 10 households press
twice at the same instant.

Checks after each burst, from the database: exactly `stock` orders placed (each takes one box),
stock 0 and never negative, the lines sum to what was taken, one order per household, no 5xx.

Figures: answered orders per second over the burst beside the baseline's inserts per second,
the burst's wall time against the 10 s target, and the picking list (by product + by building)
for 3,000 orders against the 1 s target (median of 5, in process).

    .venv/bin/python benchmarks/buying_orders.py --database sqlite|postgres [--households 2000]
        [--stock 500] [--rounds 2] [--quick]
"""

from __future__ import annotations

import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (  # noqa: E402
    Metric,
    Results,
    code_fingerprint,
    database,
    database_version,
    log,
    machine,
    scenario_args,
)
from queue_take import (  # noqa: E402
    Server,
    _request_bytes,
    build_community,
    burst,
    create_insert_table,
    granian_argv,
    press_order,
)

TITLE = "Group buying: 2,000 households order at once against stock for 500"
DEFAULT_DATABASES = ("sqlite", "postgres")
HOUSEHOLDS = int(os.environ.get("BENCH_BUYING_HOUSEHOLDS", "2000"))
STOCK = int(os.environ.get("BENCH_BUYING_STOCK", "500"))
ROUNDS = int(os.environ.get("BENCH_BUYING_ROUNDS", "2"))
PICKING_ORDERS = 3000
TARGET_BURST_S = 10.0
TARGET_PICKING_MS = 1000.0
SEED = 5
CODE = [
    "shouwang/supplies/buying/services.py",
    "shouwang/supplies/buying/selectors.py",
    "shouwang/supplies/buying/views/resident.py",
]


def setup_merchant(community):
    from shouwang.supplies.buying.models import Merchant

    return Merchant.objects.create(community=community, name="松林超市", vetted=True)


def new_window(merchant, stock: int, title: str):
    """A window open now with one product: `stock` vegetable boxes, one per household."""
    import datetime as dt

    from django.utils import timezone

    from shouwang.supplies.buying.models import OrderWindow, Product

    now = timezone.now()
    Product.objects.filter(merchant=merchant).update(active=False)
    p = Product.objects.create(
        community_id=merchant.community_id,
        merchant=merchant,
        name=f"蔬菜包 {title}",
        price="39.90",
        stock=stock,
        limit=1,
        is_bundle=True,
        bundle_contents="白菜、土豆、胡萝卜、西红柿",
    )
    w = OrderWindow.objects.create(
        community_id=merchant.community_id,
        merchant=merchant,
        title=title,
        opens_at=now - dt.timedelta(minutes=1),
        closes_at=now + dt.timedelta(hours=3),
    )
    return w, p


def order_payloads(port: int, kind: str, order, window_pk: int, product_pk: int) -> list[bytes]:
    out = []
    for h in order:
        if kind == "order":
            path = f"/my/households/{h.pk}/buying/{window_pk}/order/"
            body = f"csrfmiddlewaretoken={h.csrf}&q_{product_pk}=1".encode()
        else:
            path = f"/bench/insert/{h.pk}/{window_pk}/"
            body = f"csrfmiddlewaretoken={h.csrf}&notify=page".encode()
        headers = {
            "Cookie": h.cookie,
            "X-CSRFToken": h.csrf,
            "Content-Type": "application/x-www-form-urlencoded",
            "Accept-Language": "en",
        }
        out.append(_request_bytes(port, "POST", path, headers, body))
    return out


def verify(window, product, answers, stock: int) -> dict:
    from django.db.models import Count, Sum

    from shouwang.supplies.buying.models import Order, OrderLine, Product

    placed = Order.objects.filter(window=window, status="placed")
    n = placed.count()
    per_household = placed.values("household_id").annotate(n=Count("pk")).filter(n__gt=1).count()
    left = Product.objects.get(pk=product.pk).stock
    taken = (
        OrderLine.objects.filter(order__window=window, order__status="placed").aggregate(
            s=Sum("quantity")
        )["s"]
        or 0
    )
    server_errors = sum(1 for a in answers if a.status >= 500)
    checks = {
        "orders": n,
        "stock_left": left,
        "ordered_units": taken,
        "households_with_two": per_household,
        "server_errors": server_errors,
        "no_answer": sum(1 for a in answers if not a.status),
    }
    checks["ok"] = (
        n == stock
        and left == 0
        and taken + left == stock
        and per_household == 0
        and server_errors == 0
    )
    return checks


def picking_timing(community, households_pks: list[int]) -> dict:
    """A closed window of 3,000 orders of 3 lines (bulk-inserted: the figure is the list, not
    the ordering), then the picking list by product and by building, median of 5."""
    import datetime as dt

    from django.utils import timezone

    from shouwang.supplies.buying import selectors
    from shouwang.supplies.buying.models import Merchant, Order, OrderLine, OrderWindow, Product

    m = Merchant.objects.create(community=community, name="拣货基准", vetted=True)
    products = [
        Product.objects.create(
            community=community, merchant=m, name=f"商品{i}", price="9.90", stock=0, position=i
        )
        for i in range(8)
    ]
    now = timezone.now()
    w = OrderWindow.objects.create(
        community=community,
        merchant=m,
        opens_at=now - dt.timedelta(hours=10),
        closes_at=now - dt.timedelta(hours=1),
    )
    rng = random.Random(SEED)
    orders = Order.objects.bulk_create(
        [
            Order(
                community=community,
                window=w,
                household_id=hh,
                channel="household",
                pickup_code=f"{i:06d}",
                total=0,
            )
            for i, hh in enumerate(households_pks[:PICKING_ORDERS])
        ],
        batch_size=1000,
    )
    lines = []
    for o in orders:
        for p in rng.sample(products, 3):
            lines.append(
                OrderLine(order=o, product=p, quantity=rng.randint(1, 3), unit_price=p.price)
            )
    OrderLine.objects.bulk_create(lines, batch_size=2000)
    times = []
    for _ in range(5):
        started = time.perf_counter()
        table = selectors.picking_by_building(w)
        times.append((time.perf_counter() - started) * 1000)
    total = sum(p["quantity"] for p in table["products"])
    expected = sum(ln.quantity for ln in lines)
    slip_started = time.perf_counter()
    slips = selectors.slips(w)
    slips_ms = (time.perf_counter() - slip_started) * 1000
    return {
        "orders": len(orders),
        "lines": len(lines),
        "buildings": len(table["buildings"]),
        "median_ms": statistics.median(times),
        "all_ms": [round(t, 1) for t in times],
        "totals_match": total == expected,
        "slips_ms": slips_ms,
        "slip_labels": sum(len(b["labels"]) for b in slips),
    }


def run(kind: str, n: int, stock: int, rounds: int) -> Results:
    results = Results("buying_orders", kind, TITLE)
    results.info.update(machine())
    results.info["code"] = code_fingerprint([*CODE, "benchmarks/_queue_take_app.py"])
    workers = 1 if kind == "sqlite" else 2
    tmp = Path(tempfile.mkdtemp(prefix="shouwang_bench_buying_"))
    with database(kind) as url:
        results.info["database"] = database_version(kind)
        from django.db import connections

        from shouwang.registry.models import Community, Household

        _admin, _point, households = build_community(max(n, PICKING_ORDERS))
        community = Community.objects.get(code="QB")
        merchant = setup_merchant(community)
        create_insert_table()
        connections.close_all()
        ours = Server("order", "config.wsgi:application", "", workers, url)
        base = Server("insert", "benchmarks._queue_take_app:application", "insert", workers, url)
        rng = random.Random(SEED)
        burst_households = households[:n]
        try:
            for s in (ours, base):
                s.start(tmp)
            results.info["server"] = " ".join(
                ["granian", *granian_argv("<target>", ours.port, workers)[1:]]
            )
            log(f"  servers, as `shouwang serve` runs the pages: {results.info['server']}")
            warm = burst_households[:300]
            w, p = new_window(merchant, len(warm), "warm-up")
            connections.close_all()
            burst(
                ours,
                "warm-up order",
                order_payloads(ours.port, "order", warm, w.pk, p.pk),
                max_open=0,
            )
            burst(
                base, "warm-up insert", order_payloads(base.port, "insert", warm, 0, 0), max_open=0
            )
            rates, base_rates, walls, all_ok = [], [], [], True
            for r in range(rounds):
                log(f"  round {r + 1}/{rounds}")
                order = press_order(burst_households, rng)
                b0 = burst(
                    base,
                    "insert (baseline)",
                    order_payloads(base.port, "insert", order, r, 0),
                    max_open=0,
                )
                w, p = new_window(merchant, stock, f"round {r + 1}")
                connections.close_all()
                b1 = burst(
                    ours,
                    f"order, stock {stock}",
                    order_payloads(ours.port, "order", order, w.pk, p.pk),
                    max_open=0,
                )
                b1.checks = verify(w, p, b1.answers, stock)
                connections.close_all()
                c = b1.checks
                log(
                    f"      {'ok' if c['ok'] else 'FAILED'}: {c['orders']} orders, stock left "
                    f"{c['stock_left']}, units {c['ordered_units']}, doubles "
                    f"{c['households_with_two']}, 5xx {c['server_errors']}, no answer "
                    f"{c['no_answer']}"
                )
                all_ok &= c["ok"]
                rates.append(b1.rate)
                base_rates.append(b0.rate)
                walls.append(b1.wall)
                results.sections[f"round {r + 1}"] = (
                    f"baseline {b0.summary()}\norder {b1.summary()}"
                )
        finally:
            for s in (ours, base):
                s.stop()
        ours_rate, base_rate = statistics.median(rates), statistics.median(base_rates)
        results.add(
            Metric(
                "orders answered per second (burst)",
                round(ours_rate, 1),
                round(base_rate, 1),
                "rows/s",
                baseline_name="bare Django view, one INSERT",
                note=f"ratio {ours_rate / base_rate:.2f}",
            )
        )
        worst = max(walls)
        results.add(
            Metric(
                f"{n:,} households' burst, wall time",
                round(worst * 1000, 0),
                None,
                "ms",
                target=f"< {TARGET_BURST_S:.0f} s, never oversold",
                passed=worst < TARGET_BURST_S and all_ok,
            )
        )
        pk_list = list(
            Household.objects.filter(community=community)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        pick = picking_timing(community, pk_list)
        results.add(
            Metric(
                f"picking list, {pick['orders']:,} orders ({pick['lines']:,} lines)",
                round(pick["median_ms"], 1),
                None,
                "ms",
                target="< 1 s",
                passed=pick["median_ms"] < TARGET_PICKING_MS and pick["totals_match"],
                note=f"runs {pick['all_ms']}; slips for all {pick['slip_labels']} "
                f"households {pick['slips_ms']:.0f} ms",
            )
        )
        log("")
        log(
            f"  orders/s (median of {rounds}): {ours_rate:.0f}   baseline inserts/s: "
            f"{base_rate:.0f}   ratio {ours_rate / base_rate:.2f}"
        )
        log(
            f"  slowest burst: {worst:.2f} s for {n:,} households (target < {TARGET_BURST_S:.0f} s)"
            f"; never oversold: {all_ok}"
        )
        log(
            f"  picking list for {pick['orders']:,} orders: median {pick['median_ms']:.1f} ms "
            f"{pick['all_ms']} (totals match: {pick['totals_match']}); slips "
            f"{pick['slips_ms']:.0f} ms"
        )
        if not all_ok:
            raise SystemExit("OVERSOLD or a failed check: see the rounds above")
    return results


def main() -> None:
    def extra(parser):
        parser.add_argument("--households", type=int, default=HOUSEHOLDS)
        parser.add_argument("--stock", type=int, default=STOCK)
        parser.add_argument("--rounds", type=int, default=ROUNDS)

    args = scenario_args(__doc__.splitlines()[0], DEFAULT_DATABASES, extra)
    n, stock, rounds = args.households, args.stock, args.rounds
    if args.quick:
        n, stock, rounds = min(n, 400), min(stock, 100), 1
    log(f"{TITLE} — {n:,} households, stock {stock:,}, {rounds} round(s), on {args.database}")
    run(args.database, n, stock, rounds).save(args.result_file)


if __name__ == "__main__":
    main()
