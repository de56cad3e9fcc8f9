"""What a run will need before it starts: its memory, estimated from the configuration alone,
so that a model that cannot fit is refused in one line instead of failing minutes later."""

from __future__ import annotations

import math
import os
from pathlib import Path

from vgtui.core.activation_stats import HISTOGRAM_STRIDE, ProbeLayout
from vgtui.core.config import ConfigError, RunConfig
from vgtui.core.data import NUM_CLASSES, PIXELS
from vgtui.core.eval_blocks import TEST_BLOCK_ROWS
from vgtui.core.evaluation.interface import available_cores, evaluation_lanes
from vgtui.core.evaluation.shared import RING_ENTRIES
from vgtui.core.inference import probe_buffer_fits
from vgtui.core.optimizers import STATE_ARRAYS
from vgtui.core.trainer import MAX_PENDING_EVALUATIONS

FLOAT32 = 4
FLOAT64 = 8
PROBE_TALLY_COPIES = RING_ENTRIES + MAX_PENDING_EVALUATIONS
"""An evaluation's probe, at most: in the shared ring and in the pending evaluations."""
PARAMETER_COPIES = 3 + PROBE_TALLY_COPIES
"""Copies of the parameters alive at once, at most: the bank's parameters, gradients and update
(3), the shared ring of snapshots and the snapshots of pending evaluations."""
BASE_BYTES = 200 * 2**20
"""The interpreter, NumPy, the dataset (55 MB) and the test blocks, with room to spare."""


def parameter_count(config: RunConfig) -> int:
    """Weights and biases of all setups."""
    sizes = (PIXELS, *config.hidden, NUM_CLASSES)
    per_setup = sum((n_in + 1) * n_out for n_in, n_out in zip(sizes, sizes[1:], strict=False))
    return per_setup * len(config.setups) * config.seeds


def remedy_floats(config: RunConfig) -> int:
    """The remedies' floats beyond a plain run's: each setup's optimizer state (STATE_ARRAYS
    arrays of its parameters), a bank's copies when its setups differ (the update's gathered
    parameters, gradients and work array, the parameters before it), and batch norm's gamma,
    beta, running averages and normalized activations."""
    setups = config.setups
    if all(spec.plain for spec in setups):
        return 0
    units = sum(config.hidden)
    per_setup = parameter_count(config) // (len(setups) * config.seeds)
    floats = 4 * parameter_count(config)
    for spec in setups:
        size = per_setup + 2 * units * spec.batch_norm
        floats += config.seeds * (STATE_ARRAYS[spec.optimizer] * size + 6 * units * spec.batch_norm)
    if any(spec.batch_norm for spec in setups):
        floats += config.seeds * len(setups) * config.batch_size * units
    return floats


def estimated_bytes(config: RunConfig, lanes: int | None = None) -> int:
    """An upper estimate of a run's peak memory (all processes), its evaluations shared by
    ``lanes`` lanes (by default as many as this machine gives them; helpers share the ring)."""
    lanes = evaluation_lanes() if lanes is None else lanes
    setups, units = len(config.setups) * config.seeds, sum(config.hidden) + NUM_CLASSES
    sizes = (PIXELS, *config.hidden, NUM_CLASSES)
    first_layer = (PIXELS + 1) * setups * config.hidden[0]
    # The initial standard-normal draws, float64, all layers at once.
    draws = sum(n_in * n_out for n_in, n_out in zip(sizes, sizes[1:], strict=False))
    training = 3 * config.batch_size * setups * units + 2 * first_layer
    # The probe: its activations in a buffer per evaluation (in the shared ring and pending)
    # and the tally's work arrays (float32 + integer + bool per sampled activation), or, for a
    # large network, running tallies (float64) per lane and evaluation.
    probe = config.probe_size
    if probe and probe_buffer_fits(sizes, setups, probe):
        buffers = PROBE_TALLY_COPIES * setups * sum(config.hidden) * probe
        probe_work = 13 * setups * max(config.hidden) * math.ceil(probe / HISTOGRAM_STRIDE)
    else:
        buffers, probe_work = 0, 13 * setups * max(config.hidden) * TEST_BLOCK_ROWS
    tallies = setups * ProbeLayout.of(sizes).width * (lanes + PROBE_TALLY_COPIES) if probe else 0
    inference = lanes * (2 * first_layer + 2 * TEST_BLOCK_ROWS * setups * units)
    floats = PARAMETER_COPIES * parameter_count(config) + training + inference + buffers
    floats += remedy_floats(config)
    return BASE_BYTES + FLOAT32 * floats + FLOAT64 * (draws + tallies) + lanes * probe_work


def available_bytes() -> int | None:
    """Memory available to new work (Linux: MemAvailable), or None if unknown."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def check_memory(config: RunConfig, available: int | None = None) -> None:
    """Raise ConfigError when ``config`` cannot fit in the memory available."""
    available = available_bytes() if available is None else available
    needed = estimated_bytes(config)
    if available is not None and needed > available:
        raise ConfigError(
            f"hidden sizes {_sizes(config.hidden)} with {len(config.setups)} setups "
            f"need about {_gib(needed)} of memory; {_gib(available)} is available"
        )


def _sizes(hidden: tuple[int, ...]) -> str:
    """``40,20``, with a run of equal sizes as ``100x500``: a deep network's message stays
    one short line that ends with the reason."""
    runs: list[list[int]] = []
    for size in hidden:
        if runs and runs[-1][0] == size:
            runs[-1][1] += 1
        else:
            runs.append([size, 1])
    return ",".join(f"{size}x{count}" if count > 2 else ",".join([str(size)] * count)
                    for size, count in runs)  # fmt: skip


def _gib(count: int) -> str:
    value = count / 2**30
    return f"{value:.1f} GiB" if value < 100 else f"{math.ceil(value):,} GiB"


FLOPS_PER_SECOND = 2.5e11
"""What the engine sustains on the 2-core target, counting every pixel (bench/README.md: the
default run's 628 GFLOP in about 2.6 s); an estimate, not a promise."""
SECONDS_PER_ITERATION = 4e-4  # Python's share of a step, whatever the network's size
LONG_RUN_SECONDS = 120.0
"""Runs estimated to take longer than this are announced before they start."""


def estimated_seconds(config: RunConfig, test_size: int = 10_000) -> float:
    """A rough estimate of a run's wall time: its matrix products (forward and backward at
    every step, a test-set forward pass at every evaluation) at :data:`FLOPS_PER_SECOND`."""
    sizes = (PIXELS, *config.hidden, NUM_CLASSES)
    products = sum(n_in * n_out for n_in, n_out in zip(sizes, sizes[1:], strict=False))
    per_setup = 6 * config.batch_size * products * config.iterations
    evaluations = -(-config.iterations // config.eval_every)
    per_setup += 2 * test_size * products * evaluations
    flops = per_setup * len(config.setups) * config.seeds
    return flops / FLOPS_PER_SECOND + SECONDS_PER_ITERATION * config.iterations


CONTENTION = 0.75
"""A busy machine slows a run by about CONTENTION * (load + lanes) / cores (measured on the
shared 2-core machine at loads 5 to 14: bench/README.md, 'The long-run estimate')."""


def busy_factor(lanes: int | None = None, load: float | None = None) -> float:
    """How much slower than on an idle machine a run goes now: the processes already running
    (the 1-minute load average) share the cores with the run's ``lanes``; 1 when idle."""
    lanes = evaluation_lanes() if lanes is None else lanes
    if load is None:
        try:
            load = os.getloadavg()[0]
        except (OSError, AttributeError):
            return 1.0
    cores = available_cores()
    return max(1.0, CONTENTION * (load + lanes) / cores)


def _duration(seconds: float) -> str:
    return f"{seconds / 60:.0f} minutes" if seconds < 3600 else f"{seconds / 3600:.1f} hours"


def long_run_warning(config: RunConfig, busy: float | None = None) -> str | None:
    """A line announcing a run that will take long (on this machine as busy as it is now:
    ``busy``, by default :func:`busy_factor`), or None."""
    idle = estimated_seconds(config)
    busy = busy_factor() if busy is None else busy
    seconds = idle * busy
    if seconds <= LONG_RUN_SECONDS:
        return None
    if busy < 1.2:
        return f"this run will take about {_duration(seconds)} (an estimate from its size)"
    return (
        f"this run will take about {_duration(seconds)} on this machine as busy as it is now "
        f"({_duration(idle)} idle; an estimate from its size)"
    )
