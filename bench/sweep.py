"""Cells per minute of a sweep: (a) one task after another in this process (one BLAS thread, no
helper process), (b) on an embedded Dask LocalCluster with one single-threaded worker per core.

    python bench/sweep.py            # the stated bench sweep (about 2 minutes on 2 cores)
    python bench/sweep.py --preset   # the schoenholz preset (2 seeds: about 12 minutes on 2 cores)
    python bench/sweep.py --task     # the preset's depth-50 task alone, against its FLOP floor
    python bench/sweep.py --task --coretype SkylakeX   # the same with those OpenBLAS kernels

Dask's overhead per task: on each worker, the gap between the end of one task and the start
of the next (the scheduler's round trip: result back, next task out), over the task's time.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from speed import PEAK_SIZES, cpu_model, default_run_flops  # noqa: E402

from vgtui.core.blas import limit_blas_threads, openblas_kernels  # noqa: E402
from vgtui.core.data import load_bundled  # noqa: E402
from vgtui.core.sweep.spec import PRESETS, SweepSpec, Task  # noqa: E402
from vgtui.core.sweep.task import run_task  # noqa: E402

BENCH = SweepSpec(
    weight_variances=(1.0, 1.5, 2.0, 2.5, 3.0, 3.5, 4.0),
    depths=(10, 20, 30, 40),
    seeds=2,
    iterations=100,
    eval_every=50,
)
"""7 sigma_w^2 x 4 depths x 2 seeds = 8 tasks, 56 cells; width 100, 100 iterations."""


TASK = Task("tanh", 50, 0)
"""The schoenholz preset's depth-50 task: 50 tanh layers of 100, 9 sigma_w^2, 400 steps, 5
evaluations of the 10,000 test images."""


def single_core_peak() -> float:
    """GFLOP/s of NumPy's float32 matmul on one BLAS thread, best of 5 per size, by CPU time
    (one thread: what other processes take of the core does not count)."""
    rng = np.random.default_rng(0)
    best = 0.0
    for n in PEAK_SIZES:
        a, b = (rng.standard_normal((n, n), dtype=np.float32) for _ in "ab")
        out = np.empty((n, n), dtype=np.float32)
        np.matmul(a, b, out=out)
        for _ in range(5):
            started = time.process_time()
            np.matmul(a, b, out=out)
            best = max(best, 2 * n**3 / (time.process_time() - started) / 1e9)
    return best


def task_worker() -> None:
    """In a fresh process (the environment a sweep worker gets): the single-core peak, then
    the task, wall and CPU seconds; one JSON line."""
    limit_blas_threads(1)
    spec = PRESETS["schoenholz"]
    run_task(spec.to_dict(), Task("tanh", 2, 0))  # loads the data and the test blocks
    peak = single_core_peak()
    cpu, started = time.process_time(), time.perf_counter()
    result = run_task(spec.to_dict(), TASK)
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu
    accuracy = [r["test_accuracy"] for r in result["results"]]
    print(json.dumps({"wall": wall, "cpu": cpu, "peak": peak, "kernels": openblas_kernels(),
                      "test_accuracy": accuracy}))  # fmt: skip


def task_against_floor(coretype: str | None) -> None:
    """The depth-50 task alone in a process of its own, against its FLOP floor: its matmul
    FLOPs over the single-core peak measured in that process (with ``coretype``, the OpenBLAS
    kernels it names). Under load, read the CPU ratio: the task is one thread."""
    spec = PRESETS["schoenholz"]
    flops = default_run_flops(spec.config(TASK), load_bundled().test_size)["total"]
    environment = dict(os.environ)
    if coretype:
        environment["OPENBLAS_CORETYPE"] = coretype
    command = [sys.executable, str(Path(__file__).resolve()), "--task-worker"]
    done = subprocess.run(command, env=environment, capture_output=True, text=True, check=True)
    result = json.loads(done.stdout.strip().splitlines()[-1])
    floor = flops / (result["peak"] * 1e9)
    print(f"{cpu_model()}; OpenBLAS kernels {result['kernels']}; load average "
          f"{os.getloadavg()[0]:.1f} after")  # fmt: skip
    print(f"depth-50 task ({TASK.key}): {flops / 1e12:.2f} TFLOP; single-core peak "
          f"{result['peak']:.0f} GFLOP/s: floor {floor:.1f} s")  # fmt: skip
    print(f"wall {result['wall']:.1f} s = {result['wall'] / floor:.2f}x the floor; "
          f"CPU {result['cpu']:.1f} s = {result['cpu'] / floor:.2f}x (target <= 1.5x)")  # fmt: skip


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
    parser.add_argument("--task", action="store_true", help="the depth-50 task against its floor")
    parser.add_argument("--coretype", help="with --task: OPENBLAS_CORETYPE for it (SkylakeX...)")
    parser.add_argument("--task-worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()
    if args.task_worker:
        return task_worker()
    if args.task:
        return task_against_floor(args.coretype)
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
