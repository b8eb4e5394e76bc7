"""Run benchmark scenarios, each in its own process with a throwaway database, and print our
figure next to the baseline measured in the same run.

    .venv/bin/python benchmarks/run.py                       # every scenario, its default databases
    .venv/bin/python benchmarks/run.py import_xlsx --database sqlite
    .venv/bin/python benchmarks/run.py --markdown docs/performance.md   # also record the figures

A scenario is any benchmarks/<name>.py not starting with "_": it declares TITLE and
DEFAULT_DATABASES, takes --database and --result-file, and writes its figures as JSON
(see _common.Results). See benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import ast
import datetime as dt
import json
import os
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
BEGIN, END = "<!-- figures:begin -->", "<!-- figures:end -->"


def scenarios() -> dict[str, dict]:
    """name -> {path, title, databases}, read from the modules' source without importing them."""
    found = {}
    for path in sorted(HERE.glob("*.py")):
        if path.name.startswith("_") or path.name == "run.py":
            continue
        meta = {"path": path, "title": path.stem, "databases": ("sqlite",)}
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, ast.Assign) and len(node.targets) == 1:
                name = getattr(node.targets[0], "id", "")
                if name == "TITLE":
                    meta["title"] = ast.literal_eval(node.value)
                elif name == "DEFAULT_DATABASES":
                    meta["databases"] = tuple(ast.literal_eval(node.value))
        found[path.stem] = meta
    return found


def _fmt(value, unit: str) -> str:
    if value is None:
        return "—"
    if unit in ("rows/s", "rows/CPU-s", "req/s", "req/CPU-s", "tickets", "requests"):
        return f"{value:,.0f} {unit}"
    if unit == "ms":
        return f"{value:,.1f} ms" if value >= 10 else f"{value:,.2f} ms"
    if unit == "s":
        return f"{value:,.0f} s ({value / 60:.1f} min)" if value >= 60 else f"{value:.1f} s"
    return f"{value:,.2f} {unit}"


def _ratio(m: dict) -> str:
    r = m.get("ratio")
    if r is None:
        return "—"
    return f"{r:.2f}×" if r < 10 else f"{r:.0f}×"


def _verdict(m: dict) -> str:
    return {True: "PASS", False: "FAIL", None: "—"}[m.get("passed")]


def print_summary(runs: list[dict]) -> None:
    print("\n" + "=" * 100)
    for run in runs:
        res = run.get("results")
        head = f"{run['scenario']} on {run['database']}"
        if not res:
            print(f"\n{head}: FAILED to run (exit {run['returncode']}, {run['seconds']:.0f} s)")
            continue
        print(
            f"\n{res['title']} — {head} ({res['info'].get('database', '')}), {run['seconds']:.0f} s"
        )
        print(
            f"  {'measure':<52} {'ours':>16} {'baseline':>16} {'ratio':>7}  {'target':<30} result"
        )
        for m in res["metrics"]:
            print(
                f"  {m['name'][:52]:<52} {_fmt(m['ours'], m['unit']):>16} "
                f"{_fmt(m['baseline'], m['unit']):>16} {_ratio(m):>7}  {m['target'][:30]:<30} "
                f"{_verdict(m)}"
            )
        for note in res.get("notes", []):
            print(f"  note: {note}")
    print()


def markdown(runs: list[dict], command: str, started: dt.datetime, seconds: float) -> str:
    first = next((r["results"] for r in runs if r.get("results")), None)
    info = first["info"] if first else {}
    dbs = sorted({r["results"]["info"].get("database", "") for r in runs if r.get("results")})
    out = [
        f"Measured {started:%Y-%m-%d %H:%M} UTC with `{command}` "
        f"(the whole run took {seconds / 60:.1f} min).",
        "",
        f"Machine: {info.get('nproc', '?')} CPUs ({info.get('cpu', '?')}), "
        f"Python {info.get('python', '?')}, {', '.join(dbs)}; "
        f"load average at the start {info.get('load_average', '?')}. "
        "Other sessions shared this machine: wall-clock figures are noisy, which is why each "
        "baseline is measured in the same run, interleaved with ours.",
        "",
    ]
    for run in runs:
        res = run.get("results")
        if not res:
            out += [f"### {run['scenario']} on {run['database']}: did not finish", ""]
            continue
        out += [f"### {res['title']} — {res['info'].get('database', run['database'])}", ""]
        out += [
            "| measure | ours | baseline | ratio | target | result | notes |",
            "|---|---:|---:|---:|---|---|---|",
        ]
        for m in res["metrics"]:
            baseline = _fmt(m["baseline"], m["unit"])
            if m.get("baseline_name") and m["baseline"] is not None:
                baseline += f" ({m['baseline_name']})"
            out.append(
                f"| {m['name']} | {_fmt(m['ours'], m['unit'])} | {baseline} | {_ratio(m)} | "
                f"{m['target'] or '—'} | {_verdict(m)} | {m.get('note', '')} |"
            )
        out.append("")
        extra = {
            k: v
            for k, v in res["info"].items()
            if k not in ("nproc", "python", "platform", "cpu", "load_average", "psql")
        }
        out += [
            "<details><summary>details</summary>",
            "",
            "```json",
            json.dumps(extra, ensure_ascii=False, indent=1),
            "```",
            "",
        ]
        for name, text in res.get("sections", {}).items():
            out += [f"**{name}**", "", "```", text.rstrip(), "```", ""]
        out += ["</details>", ""]
        for note in res.get("notes", []):
            out += [f"Note: {note}", ""]
    return "\n".join(out)


def write_markdown(path: Path, body: str) -> None:
    """Replace the figures block of `path` (between the markers), or write a new file."""
    block = f"{BEGIN}\n{body}\n{END}"
    if path.exists() and BEGIN in (text := path.read_text()) and END in text:
        head, rest = text.split(BEGIN, 1)
        _old, tail = rest.split(END, 1)
        path.write_text(head + block + tail)
    else:
        path.write_text(f"# Performance\n\n{block}\n")
    print(f"figures written to {path}")


def main() -> int:
    known = scenarios()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scenario", nargs="*", help=f"default: all of {', '.join(known)}")
    parser.add_argument(
        "--database",
        action="append",
        choices=["sqlite", "postgres"],
        help="run on this database only (repeatable); default: each scenario's own list",
    )
    parser.add_argument("--quick", action="store_true", help="small sizes: a smoke test")
    parser.add_argument("--profile", action="store_true", help="also profile (pyinstrument)")
    parser.add_argument("--markdown", type=Path, help="write the figures into this file")
    parser.add_argument("--json", type=Path, help="write every scenario's raw figures here")
    args = parser.parse_args()

    unknown = [s for s in args.scenario if s not in known]
    if unknown:
        parser.error(f"unknown scenario {', '.join(unknown)} (known: {', '.join(known)})")
    plan = [
        (name, db)
        for name in (args.scenario or list(known))
        for db in (args.database or known[name]["databases"])
    ]
    started_at = dt.datetime.now(dt.UTC)
    started = time.perf_counter()
    runs = []
    seen: dict[str, int] = {}
    for name, db in plan:
        index = seen.get(name, 0)
        seen[name] = index + 1
        with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as fh:
            result_file = Path(fh.name)
        cmd = [sys.executable, str(known[name]["path"]), "--database", db]
        cmd += ["--result-file", str(result_file)]
        cmd += ["--quick"] if args.quick else []
        cmd += ["--profile"] if args.profile else []
        env = {**os.environ, "BENCH_RUN_INDEX": str(index), "PYTHONUNBUFFERED": "1"}
        print(f"\n### {name} on {db}", flush=True)
        t0 = time.perf_counter()
        try:
            code = subprocess.run(cmd, env=env, cwd=ROOT).returncode
        except KeyboardInterrupt:
            print("interrupted")
            result_file.unlink(missing_ok=True)
            break
        run = {"scenario": name, "database": db, "returncode": code}
        run["seconds"] = time.perf_counter() - t0
        if code == 0 and result_file.stat().st_size:
            run["results"] = json.loads(result_file.read_text())
        result_file.unlink(missing_ok=True)
        runs.append(run)
    seconds = time.perf_counter() - started
    print_summary(runs)
    print(f"whole run: {seconds / 60:.1f} min")
    command = "python benchmarks/run.py " + shlex.join(sys.argv[1:])
    if args.json:
        args.json.write_text(json.dumps(runs, ensure_ascii=False, indent=1, default=str))
    if args.markdown:
        write_markdown(args.markdown, markdown(runs, command.strip(), started_at, seconds))
    failed = [r for r in runs if r["returncode"] != 0]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
