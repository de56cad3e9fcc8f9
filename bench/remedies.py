"""What the remedies cost: a training step per setup with batch norm, with Adam, and plain.

    python bench/remedies.py           # table
    python bench/remedies.py --json

bench/speed.py runs ``measure`` as its remedies row (in a fresh process, beside its other
contenders; ``--skip-remedies`` leaves it out); this script runs it alone. Two measures:

1. a training step (forward, backward, update) of a bank of four setups of one kind on the
   notebook's network (784-40-20-10, batch 100), per setup: plain sigmoid, sigmoid+bn,
   sigmoid@adam, sigmoid+res (784-40-40-40-10, where a shortcut exists) beside its plain twin;
   CPU time of the one thread (BLAS limited to it), the kinds taking turns, best of
   ``--repeats`` rounds of ``STEPS`` steps;
2. the full headless run of ``--preset notebook-remedies`` against the default four (wall time
   from building the trainer, evaluation included), the two taking turns, best of
   ``--repeats`` each.

The machine is usually shared: take the ratios, not the absolute times, and run it twice.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from vgtui.core.bank import NetworkBank  # noqa: E402
from vgtui.core.blas import limit_blas_threads  # noqa: E402
from vgtui.core.config import PRESETS, RunConfig, parse_setups  # noqa: E402
from vgtui.core.data import NUM_CLASSES, PIXEL_SCALE, PIXELS, load_bundled  # noqa: E402
from vgtui.core.trainer import Trainer  # noqa: E402

KINDS = {
    "plain": ("", (40, 20)),
    "+bn": ("+bn", (40, 20)),
    "@adam": ("@adam:0.001", (40, 20)),
    "plain (3x40)": ("", (40, 40, 40)),
    "+res (3x40)": ("+res", (40, 40, 40)),
}
STEPS = 300
RUNS = {"default": RunConfig(), "notebook-remedies": PRESETS["notebook-remedies"].config}
"""The full runs compared: the default four setups and the notebook-remedies preset's six."""


def step_seconds(repeats: int) -> dict[str, float]:
    """Per kind, the best CPU time of this thread (BLAS runs in it: one thread) for a training
    step of four sigmoid setups of that kind, per setup. The kinds take turns, ``STEPS``
    steps each per round, so a busy moment of a shared machine hits them alike."""
    data = load_bundled()
    rng = np.random.default_rng(1)
    banks = {}
    for kind, (suffix, hidden) in KINDS.items():
        setups = parse_setups(",".join(f"sigmoid-gauss:0.0{k}{suffix}" for k in range(1, 5)))
        banks[kind] = NetworkBank((PIXELS, *hidden, NUM_CLASSES), setups, rng)
    batches = []
    for _ in range(STEPS):
        index = rng.integers(0, data.train_size, 100)
        pixels = data.train_images[index]
        used = np.flatnonzero(pixels.any(axis=0))
        labels = data.train_labels[index].astype(np.intp)
        batches.append((pixels[:, used] * PIXEL_SCALE, np.append(used, PIXELS), labels))
    best = dict.fromkeys(KINDS, float("inf"))
    with np.errstate(all="ignore"):
        for _ in range(repeats):
            for kind, bank in banks.items():
                buffers = bank.buffers(100)
                started = time.thread_time()
                for inputs, rows, labels in batches:
                    batch = buffers.active_inputs[:, : rows.size]
                    batch[:, :-1] = inputs
                    batch[:, -1] = 1.0
                    bank.backward_active(buffers, batch, rows, labels)
                    bank.apply_gradients(0.1)
                seconds = (time.thread_time() - started) / STEPS / bank.num_setups
                best[kind] = min(best[kind], seconds)
    return best


def run_seconds(configs: dict[str, RunConfig], repeats: int) -> dict[str, list[float]]:
    """Wall seconds of each full headless run (from building the trainer to its last record),
    ``repeats`` times, the configs taking turns so a busy moment hits them alike."""
    data = load_bundled()
    seconds: dict[str, list[float]] = {name: [] for name in configs}
    for _ in range(repeats):
        for name, config in configs.items():
            started = time.perf_counter()
            trainer = Trainer(config, data, np.random.default_rng(0))
            trainer.run(lambda records: None)
            trainer.close()
            seconds[name].append(time.perf_counter() - started)
    return seconds


def measure(repeats: int) -> dict:
    """Both measures and their ratios, BLAS on one thread (the entry points' policy)."""
    limit_blas_threads(1)
    steps = step_seconds(repeats)
    runs = run_seconds(RUNS, repeats)
    return {
        "repeats": repeats,
        "step_seconds_per_setup": steps,
        "bn_over_plain": steps["+bn"] / steps["plain"],
        "adam_over_plain": steps["@adam"] / steps["plain"],
        "res_over_plain": steps["+res (3x40)"] / steps["plain (3x40)"],
        "run_seconds": runs,
        "remedies_over_default": min(runs["notebook-remedies"]) / min(runs["default"]),
    }


def report_lines(result: dict) -> list[str]:
    """The measures as table lines (this script's output and bench/speed.py's remedies row)."""
    steps, runs = result["step_seconds_per_setup"], result["run_seconds"]
    lines = [f"training step per setup (CPU, best of {result['repeats']} rounds of {STEPS} steps)"]
    lines += [f"  {kind:14} {1e6 * seconds:8.1f} us" for kind, seconds in steps.items()]
    lines.append(
        f"  batch norm {result['bn_over_plain']:.2f}x plain (target <= 1.3x), "
        f"Adam {result['adam_over_plain']:.2f}x, residual {result['res_over_plain']:.2f}x"
    )
    lines.append("full headless runs (2000 iterations, evaluation included; wall, best of each)")
    for name, config in RUNS.items():
        label = f"{name} ({len(config.setups)} setups)"
        lines.append(f"  {label:30} {min(runs[name]):6.2f} s")
    lines.append(f"  notebook-remedies / default {result['remedies_over_default']:.2f}x")
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    result = measure(args.repeats)
    print(json.dumps(result, indent=2) if args.json else "\n".join(report_lines(result)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
