"""The benchmark suite (issue 7). Run it with ``bash bench/run.sh [--smoke]``, which sets up
bench/.venv with the peers first; ``python bench/run.py --smoke --out DIR`` works from any
environment that has queuectl, leaving out the peers it lacks.

Every figure is the median of ``--runs`` runs. Comparisons are ratios taken within one round
(queuectl, the ceiling and each peer measured back to back), then the median of those ratios.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import ceiling
import enqueue
import idle
import latency
import machine
import queuectl_e2e
import report
import scale
import storage_cycles
from common import BENCH_DIR, FULL, SMOKE, Context, median
from peers import ALL as ALL_PEERS
from peers import load as load_peer
from queuectl import Queue

# queuectl again with durability=normal (no fsync per commit): shows what the fsyncs cost.
NORMAL = "queuectl durability=normal"
SECTIONS = ("throughput", "enqueue", "latency", "storage", "scale", "idle")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--smoke", action="store_true",
                        help="tiny sizes and one run: checks that the suite works, in seconds")
    parser.add_argument("--out", type=Path, default=None,
                        help="where results.json, chart.png and RESULTS.md go "
                             "(default: bench/, or bench/results-smoke/ with --smoke)")
    parser.add_argument("--runs", type=int, default=None, help="runs per figure (default 3)")
    parser.add_argument("--only", default=",".join(SECTIONS),
                        help=f"comma-separated sections to run, of: {', '.join(SECTIONS)}")
    parser.add_argument("--peers", default=",".join(ALL_PEERS),
                        help="comma-separated peers to compare with ('none' for none)")
    parser.add_argument("--keep", action="store_true", help="keep the scratch folder")
    parser.add_argument("--render", action="store_true",
                        help="measure nothing: rewrite the table, chart.png and RESULTS.md from "
                             "the results.json already in the output folder (after editing "
                             "NOTES.md, say)")
    args = parser.parse_args(argv)
    args.only = [s for s in args.only.split(",") if s]
    unknown = set(args.only) - set(SECTIONS)
    if unknown:
        parser.error(f"unknown section(s): {', '.join(sorted(unknown))}")
    args.peers = [] if args.peers == "none" else [p for p in args.peers.split(",") if p]
    if set(args.peers) - set(ALL_PEERS):
        parser.error(f"unknown peer(s); known: {', '.join(ALL_PEERS)}")
    return args


def available_peers(ctx: Context, wanted: list[str]) -> tuple[list[str], dict[str, str]]:
    usable, skipped = [], {}
    for name in wanted:
        reason = load_peer(name).unavailable()
        if reason is None:
            usable.append(name)
        else:
            skipped[name] = reason
            ctx.log(f"  {name}: left out: {reason}")
    return usable, skipped


def throughput(ctx: Context) -> dict[str, Any]:
    """Items 1-3: ceiling, queuectl and the peers, round by round."""
    sizes = ctx.sizes
    systems = ["queuectl", NORMAL, *ctx.peers]
    raw: dict[str, Any] = {"ceiling": {p: [] for p in sizes.parallelism}, "bare_sleep": []}
    for name in systems:
        raw[name] = {"true": {p: [] for p in sizes.parallelism}, "sleep": []}
    errors: dict[str, str] = {}

    def drain(name: str, command: str, jobs: int, workers: int) -> dict[str, float] | None:
        if name in errors:
            return None
        try:
            if name == "queuectl":
                return queuectl_e2e.drain(ctx, command, jobs, workers)
            if name == NORMAL:
                return queuectl_e2e.drain(ctx, command, jobs, workers,
                                          extra_env={"QUEUECTL_DURABILITY": "normal"})
            result: dict[str, float] = load_peer(name).drain(ctx, command, jobs, workers)
            return result
        except Exception as exc:  # a peer that breaks is reported, not fatal
            if name.startswith("queuectl"):
                raise
            errors[name] = f"{type(exc).__name__}: {exc}"
            ctx.log(f"  {name} failed: {errors[name]}")
            return None

    # Rounds A B A B: the ceiling, then queuectl (and the others), so that both see the same
    # moment of a shared machine; figures are medians of the per-round ratios.
    for round_number in range(1, sizes.runs + 1):
        for workers in sizes.parallelism:
            best = ceiling.measure(sizes.true_jobs, workers)
            raw["ceiling"][workers].append(best)
            ceiling_cpu = best["thread_cpu_ms_per_job"] + best["children_cpu_ms_per_job"]
            line = [f"ceiling {best['best']:.0f}/s (CPU/job {best['thread_cpu_ms_per_job']:.3f}"
                    f" + jobs {best['children_cpu_ms_per_job']:.3f} ms)"]
            for name in systems:
                result = drain(name, "true", sizes.true_jobs, workers)
                raw[name]["true"][workers].append(result)
                if result and "worker_cpu_ms_per_job" in result:
                    mine = result["worker_cpu_ms_per_job"] + result["children_cpu_ms_per_job"]
                    line.append(f"{name} {result['jobs_per_second']:.0f}/s (CPU/job "
                                f"{result['worker_cpu_ms_per_job']:.3f} + jobs "
                                f"{result['children_cpu_ms_per_job']:.3f} ms, CPU ratio "
                                f"{ceiling_cpu / mine:.2f})")
                elif result:
                    line.append(f"{name} {result['jobs_per_second']:.0f}/s")
            ctx.log(f"  round {round_number}, {workers} worker(s), load "
                    f"{os.getloadavg()[0]:.1f}: {', '.join(line)}")
        bare = ceiling.bare_pool_seconds(f"sleep {sizes.sleep_seconds:g}", sizes.sleep_jobs,
                                         sizes.sleep_slots)
        raw["bare_sleep"].append(bare)
        line = [f"bare pool {bare:.2f}s"]
        for name in systems:
            command = f"sleep {sizes.sleep_seconds:g}"
            result = drain(name, command, sizes.sleep_jobs, sizes.sleep_slots)
            raw[name]["sleep"].append(result)
            if result:
                line.append(f"{name} {result['seconds']:.2f}s")
        ctx.log(f"  round {round_number}, {sizes.sleep_jobs} x sleep: {', '.join(line)}")
    return summarize_throughput(ctx, raw, errors)


def summarize_throughput(ctx: Context, raw: dict[str, Any], errors: dict[str, str]
                         ) -> dict[str, Any]:
    sizes = ctx.sizes
    ideal = sizes.sleep_jobs * sizes.sleep_seconds / sizes.sleep_slots
    out: dict[str, Any] = {"ceiling": {}, "systems": {}, "errors": errors, "raw": raw,
                           "sleep_ideal_seconds": ideal}
    for workers, samples in raw["ceiling"].items():
        out["ceiling"][str(workers)] = {
            kind: median([s[kind] for s in samples])
            for kind in ("thread", "process", "best", "thread_cpu_ms_per_job",
                         "children_cpu_ms_per_job")
        }
    out["bare_sleep_seconds"] = median(raw["bare_sleep"])
    queuectl_raw = raw["queuectl"]
    for name in ["queuectl", NORMAL, *ctx.peers]:
        system: dict[str, Any] = {"true": {}, "sleep": None}
        for workers, samples in raw[name]["true"].items():
            if not all(samples):  # a run that failed left no figures
                continue
            rates: list[float] = [s["jobs_per_second"] for s in samples]
            mine = [s["jobs_per_second"] for s in queuectl_raw["true"][workers]]
            ceilings = [c["best"] for c in raw["ceiling"][workers]]
            entry = {
                "jobs_per_second": median(rates),
                "of_ceiling": median([r / c for r, c in zip(rates, ceilings, strict=True)]),
                "queuectl_ratio": median([m / r for m, r in zip(mine, rates, strict=True)]),
            }
            if name.startswith("queuectl"):
                entry["duplicates"] = sum(s["duplicates"] for s in samples)
                for key in ("coordinator_cpu_ms_per_job", "slots_cpu_ms_per_job",
                            "worker_cpu_ms_per_job", "children_cpu_ms_per_job"):
                    entry[key] = median([s[key] for s in samples])
                # On saturated cores throughput follows the CPU per job of the process that
                # spawns plus its jobs': the ceiling's over queuectl's, per round.
                entry["cpu_ratio"] = median([
                    (c["thread_cpu_ms_per_job"] + c["children_cpu_ms_per_job"])
                    / (s["worker_cpu_ms_per_job"] + s["children_cpu_ms_per_job"])
                    for c, s in zip(raw["ceiling"][workers], samples, strict=True)])
            system["true"][str(workers)] = entry
        sleeps = raw[name]["sleep"]
        if sleeps and all(sleeps):
            mine = [s["seconds"] for s in queuectl_raw["sleep"]]
            walls = [s["seconds"] for s in sleeps]
            system["sleep"] = {
                "seconds": median(walls), "of_ideal": median([ideal / w for w in walls]),
                "queuectl_ratio": median([w / m for m, w in zip(mine, walls, strict=True)]),
                # the bare pool's wall time over this system's, round by round
                "of_bare_pool": median([b / w for b, w in zip(raw["bare_sleep"], walls,
                                                              strict=True)]),
            }
        out["systems"][name] = system
    return out


def enqueue_section(ctx: Context) -> dict[str, Any]:
    runs = range(ctx.sizes.runs)
    cold = [enqueue.cold_start(ctx) for _ in runs]
    bulk = [enqueue.bulk_file(ctx) for _ in runs]
    lib = [enqueue.library(ctx) for _ in runs]
    result: dict[str, Any] = {
        "cold_seconds": {name: median([c[name] for c in cold]) for name in cold[0]},
        "cold_ratio_to_python": median(
            [c["queuectl enqueue"] / c["python -c pass"] for c in cold]),
        "bulk_jobs": ctx.sizes.bulk_jobs,
        "bulk_jobs_per_second": median([b["jobs_per_second"] for b in bulk]),
        "library_enqueue_per_second": median([x["enqueue_per_second"] for x in lib]),
        "library_enqueue_many_per_second": median([x["enqueue_many_per_second"] for x in lib]),
    }
    if "tsp true" in cold[0]:
        result["cold_ratio_to_tsp"] = median(
            [c["queuectl enqueue"] / c["tsp true"] for c in cold])
    return result


def latency_section(ctx: Context) -> dict[str, Any]:
    samples = [latency.measure(ctx) for _ in range(ctx.sizes.runs)]
    result: dict[str, Any] = {key: median([s[key] for s in samples]) for key in samples[0]}
    result["peers"] = {}
    for name in ctx.peers:
        peer = load_peer(name)
        try:
            runs = [latency.summarize(peer.latency(ctx, ctx.sizes.latency_jobs, 4))
                    for _ in range(ctx.sizes.runs)]
        except Exception as exc:  # a peer that breaks is reported, not fatal
            ctx.log(f"  {name} latency failed: {type(exc).__name__}: {exc}")
            continue
        result["peers"][name] = {key: median([r[key] for r in runs]) for key in runs[0]}
        ctx.log(f"  {name}: p50 {result['peers'][name]['p50_ms']:.1f} ms")
    return result


def storage_section(ctx: Context, db_for: Any = None) -> dict[str, Any]:
    """Cycles per second by process count; ``db_for(workers)`` picks the database."""
    result: dict[str, Any] = {}
    for workers in ctx.sizes.parallelism:
        samples = []
        for _ in range(ctx.sizes.runs):
            db = db_for(workers) if db_for else ctx.scratch(f"storage-{workers}") / "queue.db"
            samples.append(storage_cycles.measure(db, ctx.sizes.storage_cycles, workers))
        result[str(workers)] = storage_cycles.summarize(samples)
    return result


def scale_section(ctx: Context) -> dict[str, Any]:
    sizes = ctx.sizes
    db = ctx.scratch("scale") / "queue.db"
    build_seconds = scale.build(db, sizes.scale_rows)
    ctx.log(f"  {sizes.scale_rows} finished jobs written in {build_seconds:.1f}s")
    e2e: dict[str, dict[str, list[float]]] = {}
    cycles: dict[str, dict[str, list[float]]] = {}
    for round_number in range(1, sizes.runs + 1):
        for workers in sizes.parallelism:
            pair = e2e.setdefault(str(workers), {"empty": [], "scale": []})
            pair["empty"].append(
                queuectl_e2e.drain(ctx, "true", sizes.true_jobs, workers)["jobs_per_second"])
            pair["scale"].append(queuectl_e2e.drain(
                ctx, "true", sizes.true_jobs, workers, db=db)["jobs_per_second"])
            pair2 = cycles.setdefault(str(workers), {"empty": [], "scale": []})
            empty_db = ctx.scratch(f"storage-{workers}") / "queue.db"
            pair2["empty"].append(storage_cycles.measure(
                empty_db, sizes.storage_cycles, workers)["cycles_per_second"])
            pair2["scale"].append(storage_cycles.measure(
                db, sizes.storage_cycles, workers)["cycles_per_second"])
            ctx.log(f"  round {round_number}, {workers} worker(s): end to end "
                    f"{pair['empty'][-1]:.0f} -> {pair['scale'][-1]:.0f}/s, storage "
                    f"{pair2['empty'][-1]:.0f} -> {pair2['scale'][-1]:.0f}/s")

    def summary(pairs: dict[str, dict[str, list[float]]]) -> dict[str, Any]:
        return {
            workers: {
                "empty": median(pair["empty"]), "scale": median(pair["scale"]),
                "ratio": median([s / e for e, s in zip(pair["empty"], pair["scale"],
                                                       strict=True)]),
            }
            for workers, pair in pairs.items()
        }

    empty_db = ctx.scratch("scale-empty") / "queue.db"
    Queue(empty_db).close()
    return {
        "rows": sizes.scale_rows,
        "build_seconds": build_seconds,
        "end_to_end": summary(e2e),
        "storage": summary(cycles),
        "status_seconds": scale.cli_seconds(ctx, db, "status"),
        "stats_seconds": scale.cli_seconds(ctx, db, "stats"),
        "list_seconds": scale.cli_seconds(ctx, db, "list", "--limit", "50"),
        "status_seconds_empty": scale.cli_seconds(ctx, empty_db, "status"),
        "stats_seconds_empty": scale.cli_seconds(ctx, empty_db, "stats"),
        "list_seconds_empty": scale.cli_seconds(ctx, empty_db, "list", "--limit", "50"),
        "database_bytes": db.stat().st_size,
    }


def idle_section(ctx: Context) -> dict[str, Any]:
    return idle.measure(ctx)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    sizes = SMOKE if args.smoke else FULL
    if args.runs:
        from dataclasses import replace

        sizes = replace(sizes, runs=args.runs)
    out = args.out or (BENCH_DIR / "results-smoke" if args.smoke else BENCH_DIR)
    out.mkdir(parents=True, exist_ok=True)
    if args.render:
        write_reports(json.loads((out / "results.json").read_text()), out, print)
        return 0
    workdir = Path(tempfile.mkdtemp(prefix="queuectl-bench-"))
    ctx = Context(sizes=sizes, workdir=workdir, smoke=args.smoke)
    results: dict[str, Any] = {
        "mode": "smoke" if args.smoke else "full",
        "sizes": sizes.__dict__ | {"parallelism": list(sizes.parallelism)},
        "machine": machine.describe(),
        "sections": {},
        "loads": {},  # load average before and after each section
    }
    ctx.log(f"queuectl benchmarks ({results['mode']}, {sizes.runs} run(s) per figure), "
            f"scratch {workdir}")
    ctx.peers, results["peers_left_out"] = available_peers(ctx, args.peers)
    results["peers"] = ctx.peers
    sections = {"throughput": throughput, "enqueue": enqueue_section,
                "latency": latency_section, "storage": storage_section,
                "scale": scale_section, "idle": idle_section}
    started = time.perf_counter()
    try:
        for name in SECTIONS:
            if name in args.only:
                load = [round(x, 2) for x in os.getloadavg()]
                ctx.log(f"== {name} (load average {load[0]} {load[1]} {load[2]})")
                section_started = time.perf_counter()
                results["sections"][name] = sections[name](ctx)
                after = [round(x, 2) for x in os.getloadavg()]
                results["loads"][name] = {"before": load, "after": after}
                ctx.log(f"   ({time.perf_counter() - section_started:.1f}s, load average "
                        f"after {after[0]} {after[1]} {after[2]})")
    finally:
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    results["seconds"] = time.perf_counter() - started
    results["machine"]["load_after"] = machine.load()
    results["targets"] = report.targets(results)
    (out / "results.json").write_text(json.dumps(results, indent=2, sort_keys=False) + "\n")
    write_reports(results, out, ctx.log)
    return 0


def write_reports(results: dict[str, Any], out: Path, log: Any) -> None:
    table = report.table(results)
    print(table)
    chart = report.chart(results, out / "chart.png")
    (out / "RESULTS.md").write_text(report.markdown(results, table, chart))
    missing = " (no chart: it needs matplotlib and the throughput section)"
    log(f"wrote {out / 'results.json'}, {out / 'RESULTS.md'}"
        + (f", {chart}" if chart else missing))


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    # Some shells set this; it would make every `queuectl` process compile its modules from
    # source, which an installed queuectl never does: cold start would measure the compiler.
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    sys.exit(main())
