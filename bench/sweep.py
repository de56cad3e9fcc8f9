"""Cells per minute of a sweep: (a) one task after another in this process (one BLAS thread, no
helper process), (b) on an embedded Dask LocalCluster with one single-threaded worker per core.

    python bench/sweep.py            # the stated bench sweep (about 2 minutes on 2 cores)
    python bench/sweep.py --preset   # the schoenholz preset (2 seeds: about 12 minutes on 2 cores)

Dask's overhead per task: on each worker, the gap between the end of one task and the start
of the next (the scheduler's round trip: result back, next task out), over the task's time.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from vgtui.core.blas import limit_blas_threads  # noqa: E402
from vgtui.core.sweep.spec import PRESETS, SweepSpec  # noqa: E402
from vgtui.core.sweep.task import run_task  # noqa: E402

BENCH = SweepSpec(
    weight_variances=(1.0, 1.5, 2.0, 2.5, 3.0, 3.5, 4.0),
    depths=(10, 20, 30, 40),
    seeds=2,
    iterations=100,
    eval_every=50,
)
"""7 sigma_w^2 x 4 depths x 2 seeds = 8 tasks, 56 cells; width 100, 100 iterations."""


def serial(spec: SweepSpec) -> tuple[float, list[dict]]:
    limit_blas_threads(1)
    started = time.perf_counter()
    results = [run_task(spec.to_dict(), task) for task in spec.tasks()]
    return time.perf_counter() - started, results


def on_cluster(spec: SweepSpec, workers: int) -> tuple[float, float, list[dict]]:
    os.environ.setdefault("DASK_LOGGING__DISTRIBUTED", "error")
    from distributed import Client, LocalCluster, as_completed

    starting = time.perf_counter()
    cluster = LocalCluster(
        n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None
    )
    client = Client(cluster, set_as_default=False)
    startup = time.perf_counter() - starting
    try:
        tasks = spec.tasks()
        started = time.perf_counter()
        futures = [
            client.submit(run_task, spec.to_dict(), t, pure=False, priority=len(tasks) - k)
            for k, t in enumerate(tasks)
        ]
        results = [f.result() for f in as_completed(futures, loop=client.loop)]
        wall = time.perf_counter() - started
    finally:
        client.close()
        cluster.close()
    return startup, wall, results


def overhead(results: list[dict]) -> tuple[float, float]:
    """(mean gap between consecutive tasks on a worker, mean task time), seconds."""
    by_worker = defaultdict(list)
    for r in results:
        by_worker[r["pid"]].append(r)
    gaps = []
    for rows in by_worker.values():
        rows.sort(key=lambda r: r["started"])
        gaps += [b["started"] - a["finished"] for a, b in zip(rows, rows[1:], strict=False)]
    task = statistics.fmean(r["finished"] - r["started"] for r in results)
    return (statistics.fmean(gaps) if gaps else 0.0), task


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", action="store_true", help="the schoenholz preset")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()
    spec = PRESETS["schoenholz"] if args.preset else BENCH
    cells = spec.cell_count * spec.seeds
    print(f"sweep: {len(spec.tasks())} tasks, {cells} cell-seeds; {args.workers} workers")
    a_wall, _ = serial(spec)
    print(
        f"(a) serial, 1 process, 1 BLAS thread: {a_wall:7.1f} s  "
        f"{60 * cells / a_wall:6.1f} cells/min"
    )
    startup, b_wall, results = on_cluster(spec, args.workers)
    print(
        f"(b) LocalCluster, {args.workers} workers:    {b_wall:7.1f} s  "
        f"{60 * cells / b_wall:6.1f} cells/min  (+{startup:.1f} s cluster start)"
    )
    gap, task = overhead(results)
    print(
        f"speed-up (b)/(a): {a_wall / b_wall:.2f}x  (with cluster start: "
        f"{a_wall / (b_wall + startup):.2f}x)"
    )
    print(
        f"Dask overhead per task: {1000 * gap:.1f} ms between tasks on a worker, "
        f"{100 * gap / task:.2f}% of the mean task ({task:.2f} s)"
    )


if __name__ == "__main__":
    main()
