"""How fast is vgtui's engine? One script, one machine, the same data.

    python bench/speed.py            # table
    python bench/speed.py --json     # the same numbers as JSON

Times, each in a fresh subprocess so memory and thread settings do not leak between them:

1. vgtui's full default headless run (four setups, 2000 iterations, batch 100, the full
   10,000-image test set every 10 iterations), engine only, no UI, from building the trainer
   (test blocks, helper processes) to the last record; best of ``--repeats``;
2. the straightforward notebook-style reference (``reference_notebook.py``: float64, one setup
   after another);
3. PyTorch on the same work (``torch_notebook.py``: CPU, float32, one setup after another),
   or "skipped" when torch is not importable;
4. this machine's peak float32 matmul rate with NumPy (large square products, every BLAS thread
   count from 1 to the number of cores, best taken) and the floor of the default run: its
   matmul FLOPs (forward, backward, evaluation; all 784 pixels counted) over that peak;
5. the remedies row (``remedies.py``'s ``measure``; ``--skip-remedies`` leaves it out): a
   training step per setup with batch norm, with Adam and with a shortcut against plain (CPU
   time of one thread), and the full run of ``--preset notebook-remedies`` against the default
   four, taking turns in one process, best of ``--repeats`` each.

Wall times exclude loading the data. vgtui's peak memory is that of its process plus its
helper processes' (each its own peak resident set: shared pages count twice, so this is an
upper bound). Results are also written to ``bench/results/``. What recording the probe costs
is ``probe_overhead.py``'s to measure.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR.parent))
sys.path.insert(0, str(BENCH_DIR))

from remedies import measure as measure_remedies  # noqa: E402
from remedies import report_lines as remedies_lines  # noqa: E402

from vgtui.core.blas import blas_threads, limit_blas_threads  # noqa: E402
from vgtui.core.config import RunConfig  # noqa: E402
from vgtui.core.data import NUM_CLASSES, PIXELS, load_bundled  # noqa: E402
from vgtui.core.eval_blocks import TEST_BLOCK_ROWS, evaluation_blocks  # noqa: E402
from vgtui.core.evaluation.interface import available_cores  # noqa: E402
from vgtui.core.trainer import Trainer  # noqa: E402

PEAK_SIZES = (2048, 3072)
PEAK_REPEATS = 7
TARGETS = {"reference_speedup": 6.0, "floor_ratio": 1.2, "peak_rss_mb": 250.0, "bn_step": 1.3}
"""Issue 4's targets, the floor's tightened by issue 21 (at most 1.2x the dense floor), and
issue 20's aim for a batch-norm setup's training step (at most 1.3x a plain setup's)."""


def cpu_model() -> str:
    """The processor's model name (Linux), else what platform knows."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far (Linux reports kilobytes)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def process_peak_rss_mb(pid: int) -> float:
    """Peak resident memory of a running process (Linux: VmHWM; a spawned process's ru_maxrss
    would include its parent's memory at the fork), or 0 if unknown."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return 0.0


# -- FLOP counts -----------------------------------------------------------------------------
def default_run_flops(config: RunConfig, test_size: int) -> dict[str, float]:
    """Matmul FLOPs (2 per multiply-add) of a run, all input pixels counted."""
    sizes = (PIXELS, *config.hidden, NUM_CLASSES)
    setups, batch = len(config.setups), config.batch_size
    pairs = list(zip(sizes, sizes[1:], strict=False))
    forward_per_row = 2 * sum(a * b for a, b in pairs) * setups
    input_grads_per_row = 2 * sum(a * b for a, b in pairs[1:]) * setups  # not for the pixels
    evaluations = -(-config.iterations // config.eval_every)
    flops = {
        "train_forward": config.iterations * batch * forward_per_row,
        "train_backward": config.iterations * batch * (forward_per_row + input_grads_per_row),
        "train_accuracy": evaluations * batch * forward_per_row,
        "test_evaluation": evaluations * test_size * forward_per_row,
    }
    flops["total"] = sum(flops.values())
    return flops


def vgtui_executed_eval_flops(config: RunConfig) -> float:
    """Evaluation FLOPs vgtui actually runs: its test blocks skip pixels no image of the block
    uses, and pixels few of them use only for those images (exact: the products left out are
    zero)."""
    data = load_bundled()
    sizes = (PIXELS, *config.hidden, NUM_CLASSES)
    setups = len(config.setups)
    deeper = 2 * sum(a * b for a, b in zip(sizes[1:], sizes[2:], strict=False)) * setups
    blocks = evaluation_blocks(data.test_images, data.test_labels, TEST_BLOCK_ROWS)
    first = 2 * sizes[1] * setups  # FLOPs per pixel and image in the first layer
    per_eval = sum(
        first * (b.rows * (b.layer_rows.size - 1) + b.rare_inputs.size) + b.rows * deeper
        for b in blocks
    )
    return -(-config.iterations // config.eval_every) * per_eval


# -- workers (each runs in its own process) ----------------------------------------------------
def worker_vgtui(repeats: int, probe_size: int = RunConfig.probe_size) -> dict:
    limit_blas_threads(1)  # the entry points' policy (vgtui.core.blas)
    data = load_bundled()
    seconds, accuracy, helper_peaks, helpers = [], {}, [0.0], 0
    for _ in range(repeats):
        records = []
        started = time.perf_counter()
        config = RunConfig(probe_size=probe_size)
        trainer = Trainer(config, data, np.random.default_rng(0))
        trainer.run(records.extend)
        seconds.append(time.perf_counter() - started)
        accuracy = {r.setup: r.test_accuracy for r in records[-len(RunConfig().setups) :]}
        pids = getattr(trainer.evaluator, "helper_pids", [])
        helpers = len(pids)
        helper_peaks.append(sum(process_peak_rss_mb(pid) for pid in pids))
        trainer.close()
    own = peak_rss_mb()
    return {
        "seconds": seconds,
        "test_accuracy": accuracy,
        "peak_rss_mb": own + max(helper_peaks),
        "peak_rss_own_mb": own,
        "peak_rss_helpers_mb": max(helper_peaks),
        "blas_threads": blas_threads(),
        "lanes": 1 + helpers,
        "helpers": helpers,
    }


def worker_reference(repeats: int) -> dict:
    from reference_notebook import run_notebook

    data = load_bundled()
    x_train = data.train_images.astype(np.float64) / 255.0
    x_test = data.test_images.astype(np.float64) / 255.0
    t_train = data.train_labels.astype(np.intp)
    t_test = data.test_labels.astype(np.intp)
    seconds, results = [], {}
    for _ in range(repeats):
        started = time.perf_counter()
        results = run_notebook(x_train, t_train, x_test, t_test)
        seconds.append(time.perf_counter() - started)
    return {
        "seconds": seconds,
        "test_accuracy": {name: r["test_acc"][-1] for name, r in results.items()},
        "blas_threads": blas_threads(),
    }


def worker_torch(repeats: int, threads: int) -> dict:
    try:
        import torch
    except ImportError as exc:
        return {"skipped": f"torch not importable ({exc})"}
    from torch_notebook import run_torch

    data = load_bundled()
    seconds, results = [], {}
    for _ in range(repeats):
        started = time.perf_counter()
        results = run_torch(
            data.train_images, data.train_labels, data.test_images, data.test_labels, threads
        )
        seconds.append(time.perf_counter() - started)
    return {
        "seconds": seconds,
        "test_accuracy": {name: r["test_acc"][-1] for name, r in results.items()},
        "torch_version": torch.__version__,
        "threads": torch.get_num_threads(),
    }


def worker_remedies(repeats: int) -> dict:
    return measure_remedies(repeats)


def worker_peak() -> dict:
    rng = np.random.default_rng(0)
    best: dict = {"gflops": 0.0}
    per_threads = {}
    for threads in range(1, available_cores() + 1):
        limit_blas_threads(threads)
        for n in PEAK_SIZES:
            a = rng.standard_normal((n, n), dtype=np.float32)
            b = rng.standard_normal((n, n), dtype=np.float32)
            out = np.empty((n, n), dtype=np.float32)
            np.matmul(a, b, out=out)  # warm up
            fastest = min(
                _timed(lambda a=a, b=b, out=out: np.matmul(a, b, out=out)) for _ in range(5)
            )
            gflops = 2 * n**3 / fastest / 1e9
            per_threads[f"{threads} threads, n={n}"] = gflops
            if gflops > best["gflops"]:
                best = {"gflops": gflops, "threads": threads, "n": n}
    return {**best, "measured": per_threads}


def _timed(work) -> float:
    started = time.perf_counter()
    work()
    return time.perf_counter() - started


def cpu_busy_seconds() -> float | None:
    """CPU seconds all processes of the machine have used so far (Linux), or None."""
    try:
        fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    except OSError:
        return None
    ticks = [int(x) for x in fields]
    idle = ticks[3] + ticks[4]  # idle + iowait
    return (sum(ticks[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def wait_for_quiet(limit: float) -> float:
    """Wait up to ``limit`` seconds until other processes use under 5% of the CPUs for a
    second; return the seconds waited."""
    started = time.perf_counter()
    cores = available_cores()
    while time.perf_counter() - started < limit:
        before = cpu_busy_seconds()
        if before is None:
            break
        time.sleep(1.0)
        busy = (cpu_busy_seconds() or before) - before
        if busy < 0.05 * cores:
            break
    return time.perf_counter() - started


def run_worker(name: str, *args: str, quiet_wait: float = 0.0) -> dict:
    """Run one worker in a fresh interpreter and return its JSON result, with the CPU time
    other processes used meanwhile (``foreign_cpu_share``: 0 = machine to ourselves)."""
    waited = wait_for_quiet(quiet_wait) if quiet_wait > 0 else 0.0
    command = [sys.executable, str(Path(__file__).resolve()), "--worker", name, *args]
    children_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    busy_before, started = cpu_busy_seconds(), time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - started
    children_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        return {"error": done.stderr.strip().splitlines()[-1] if done.stderr else "failed"}
    result = json.loads(done.stdout.strip().splitlines()[-1])
    busy_after = cpu_busy_seconds()
    if busy_before is not None and busy_after is not None:
        own = (children_after.ru_utime + children_after.ru_stime) - (
            children_before.ru_utime + children_before.ru_stime
        )
        foreign = max(0.0, (busy_after - busy_before) - own)
        result["foreign_cpu_share"] = foreign / (wall * available_cores())
    result["waited_for_quiet_s"] = waited
    return result


# -- report ------------------------------------------------------------------------------------
def summarise(results: dict) -> dict:
    """Best times, ratios and target checks from the workers' results."""
    vgtui_s = min(results["vgtui"]["seconds"])
    summary: dict = {"vgtui_seconds": vgtui_s}
    reference = results["reference"]
    if "seconds" in reference:
        summary["reference_seconds"] = min(reference["seconds"])
        summary["vgtui_over_reference"] = vgtui_s / summary["reference_seconds"]
        summary["speedup_vs_reference"] = summary["reference_seconds"] / vgtui_s
    torch_result = results["torch"]
    if "seconds" in torch_result:
        summary["torch_seconds"] = min(torch_result["seconds"])
        summary["vgtui_over_torch"] = vgtui_s / summary["torch_seconds"]
    floor = results["flops"]["total"] / (results["peak"]["gflops"] * 1e9)
    summary["floor_seconds"] = floor
    summary["vgtui_over_floor"] = vgtui_s / floor
    summary["peak_rss_mb"] = results["vgtui"]["peak_rss_mb"]
    remedies = results["remedies"]
    ratios = ("bn_over_plain", "adam_over_plain", "res_over_plain", "remedies_over_default")
    if "run_seconds" in remedies:
        summary["remedies"] = {name: remedies[name] for name in ratios}
    summary["targets_met"] = {
        "6x faster than reference": summary["speedup_vs_reference"] >= TARGETS["reference_speedup"]
        if "speedup_vs_reference" in summary
        else None,
        f"at most {TARGETS['floor_ratio']}x the floor": summary["vgtui_over_floor"]
        <= TARGETS["floor_ratio"],
        "faster than PyTorch": summary.get("vgtui_over_torch", 0) < 1
        if "torch_seconds" in summary
        else None,
        "peak RSS at most 250 MB": summary["peak_rss_mb"] <= TARGETS["peak_rss_mb"],
        "batch norm step at most 1.3x plain": remedies["bn_over_plain"] <= TARGETS["bn_step"]
        if "run_seconds" in remedies
        else None,
    }
    return summary


def table(results: dict) -> str:
    s = results["summary"]
    peak = results["peak"]
    torch_result = results["torch"]
    lines = [
        f"machine: {results['machine']['cores']} cores, {results['machine']['cpu']}, "
        f"numpy {np.__version__}, load before {results['machine']['load_before']}",
        "",
        f"{'contender':<40}{'best s':>9}{'all runs (s)':>28}{'others used':>13}",
    ]

    def row(label: str, result: dict) -> None:
        if "seconds" not in result:
            lines.append(f"{label:<40}{'skipped':>9}  {result.get('skipped', result.get('error'))}")
            return
        runs = ", ".join(f"{x:.2f}" for x in result["seconds"])
        foreign = result.get("foreign_cpu_share")
        others = f"{foreign:.0%} CPU" if foreign is not None else "?"
        lines.append(f"{label:<40}{min(result['seconds']):>9.3f}{runs:>28}{others:>13}")

    row(
        f"vgtui (float32, 1+{results['vgtui']['helpers']} procs, 1 BLAS thr)",
        results["vgtui"],
    )
    row(
        f"reference (float64, {results['reference'].get('blas_threads')} BLAS thr)",
        results["reference"],
    )
    row(f"PyTorch CPU (float32, {torch_result.get('threads', '-')} threads)", torch_result)
    remedies = results["remedies"]
    if "run_seconds" in remedies:
        remedies = {**remedies, "seconds": remedies["run_seconds"]["notebook-remedies"]}
    row("notebook-remedies (float32, 6 setups)", remedies)
    lines.append(f"{'floor (FLOPs / peak)':<40}{s['floor_seconds']:>9.3f}")
    lines.append(
        "('others used': CPU share other processes took during that measurement; "
        "the machine may be shared)"
    )
    lines += [
        "",
        f"peak float32 matmul: {peak['gflops']:.1f} GFLOP/s "
        f"(NumPy, {peak['n']}x{peak['n']} @ {peak['n']}x{peak['n']}, {peak['threads']} BLAS "
        "threads;\n  best of 7 per size and thread count, thread counts 1..cores, "
        "measured before and after the contenders, best kept)",
        f"default run: {results['flops']['total'] / 1e9:.1f} GFLOP counted "
        f"(evaluation {results['flops']['test_evaluation'] / 1e9:.1f}); vgtui executes "
        f"{results['vgtui_executed_gflop']:.1f} GFLOP (test blocks skip unused pixels)",
        "",
        f"vgtui / reference   {s.get('vgtui_over_reference', float('nan')):7.3f}"
        f"   ({s.get('speedup_vs_reference', float('nan')):.1f}x faster; target >= 6x)",
        f"vgtui / PyTorch     {s.get('vgtui_over_torch', float('nan')):7.3f}   (target < 1)",
        f"vgtui / floor       {s['vgtui_over_floor']:7.3f}   (target <= {TARGETS['floor_ratio']})",
        f"vgtui peak RSS      {s['peak_rss_mb']:7.1f} MB (target <= 250; trainer "
        f"{results['vgtui']['peak_rss_own_mb']:.0f} + helpers "
        f"{results['vgtui']['peak_rss_helpers_mb']:.0f})",
        "targets: "
        + ", ".join(
            f"{k}: {'met' if v else 'MISSED' if v is not None else 'n/a'}"
            for k, v in s["targets_met"].items()
        ),
        "vgtui seed-0 test accuracy: "
        + ", ".join(f"{k} {v:.4f}" for k, v in results["vgtui"]["test_accuracy"].items()),
    ]
    if "run_seconds" in remedies:
        lines += ["", "remedies row (one worker process, BLAS on one thread per lane):"]
        lines += [f"  {line}" for line in remedies_lines(remedies)]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument(
        "--repeats", type=int, default=3, help="runs of vgtui, PyTorch and the remedies row"
    )
    parser.add_argument("--reference-repeats", type=int, default=1)
    parser.add_argument("--torch-threads", type=int, default=available_cores())
    parser.add_argument("--skip-reference", action="store_true")
    parser.add_argument("--skip-torch", action="store_true")
    parser.add_argument(
        "--quiet-wait",
        type=float,
        default=30.0,
        help="before each measurement wait up to this many seconds for other processes to "
        "go quiet (0: do not wait)",
    )
    parser.add_argument(
        "--skip-remedies",
        action="store_true",
        help="leave out the remedies row (batch norm's, Adam's and a shortcut's step against "
        "plain; notebook-remedies' full run against the default four)",
    )
    parser.add_argument(
        "--probe-size", type=int, default=RunConfig.probe_size, help=argparse.SUPPRESS
    )
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.worker:
        workers = {
            "vgtui": lambda: worker_vgtui(args.repeats, args.probe_size),
            "reference": lambda: worker_reference(args.reference_repeats),
            "torch": lambda: worker_torch(args.repeats, args.torch_threads),
            "remedies": lambda: worker_remedies(args.repeats),
            "peak": worker_peak,
        }
        print(json.dumps(workers[args.worker]()))
        return 0

    config = RunConfig()
    results: dict = {
        "machine": {
            "cores": available_cores(),
            "cpu": cpu_model(),
            "load_before": os.getloadavg()[0],
            "numpy": np.__version__,
        },
        "flops": default_run_flops(config, load_bundled().test_size),
        "vgtui_executed_gflop": 0.0,
    }
    executed = vgtui_executed_eval_flops(config)
    flops = results["flops"]
    results["vgtui_executed_gflop"] = (flops["total"] - flops["test_evaluation"] + executed) / 1e9
    quiet = args.quiet_wait
    first_peak = run_worker("peak", quiet_wait=quiet)
    results["vgtui"] = run_worker("vgtui", "--repeats", str(args.repeats), quiet_wait=quiet)
    results["reference"] = (
        {"skipped": "--skip-reference"}
        if args.skip_reference
        else run_worker(
            "reference", "--reference-repeats", str(args.reference_repeats), quiet_wait=quiet
        )
    )
    results["torch"] = (
        {"skipped": "--skip-torch"}
        if args.skip_torch
        else run_worker(
            "torch",
            "--repeats",
            str(args.repeats),
            "--torch-threads",
            str(args.torch_threads),
            quiet_wait=quiet,
        )
    )
    results["remedies"] = (
        {"skipped": "--skip-remedies"}
        if args.skip_remedies
        else run_worker("remedies", "--repeats", str(args.repeats), quiet_wait=quiet)
    )
    # The peak is measured before and after the contenders and the better one kept, so a
    # moment of contention on a shared machine does not flatter the floor ratio.
    second_peak = run_worker("peak", quiet_wait=quiet)
    results["peak"] = max(first_peak, second_peak, key=lambda p: p.get("gflops", 0.0))
    for name in ("vgtui", "peak"):
        if "error" in results[name]:
            print(f"{name} failed: {results[name]['error']}", file=sys.stderr)
            return 1
    results["summary"] = summarise(results)
    out_dir = BENCH_DIR / "results"
    out_dir.mkdir(exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    (out_dir / f"speed-{stamp}.json").write_text(json.dumps(results, indent=2))
    print(json.dumps(results, indent=2) if args.json else table(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
