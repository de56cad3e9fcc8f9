"""One sweep task run in a worker: every sigma_w^2 of one (activation, depth, seed) trained
together in one bank.

:func:`run_task` runs in whatever process calls it (a Dask worker, or the bench's plain loop);
it loads the data itself, once per process, and evaluates on its own thread (the workers are
the parallelism).
"""

from __future__ import annotations

import os
import platform
import time
from functools import cache

import numpy as np

from vgtui.core.store.run_folder import json_safe
from vgtui.core.sweep.spec import SweepSpec, Task


@cache
def _dataset(data_dir: str | None):
    """The data, loaded once per process."""
    from vgtui.core.data import load_dataset

    return load_dataset(data_dir)


@cache
def _blocks(data_dir: str | None, probe_size: int, seed: int):
    """The test blocks with the probe of a seed, cut once per process and seed."""
    from vgtui.core.eval_blocks import dataset_blocks

    return dataset_blocks(_dataset(data_dir), probe_size=probe_size, seed=seed)


def run_task(spec_document: dict, task: Task) -> dict:
    """Train one task in this process, on this thread; return its results (JSON-friendly).

    Called by Dask workers (and the bench's plain loop): one BLAS thread, the data loaded by
    the process itself (never sent with the task), evaluation on this thread."""
    from vgtui.core.blas import limit_blas_threads
    from vgtui.core.diagnosis import diagnose
    from vgtui.core.evaluation.local import LocalEvaluator
    from vgtui.core.summary import summarize
    from vgtui.core.trainer import Trainer

    started = time.time()
    limit_blas_threads(1)
    spec = SweepSpec.from_dict(spec_document)
    loading = time.perf_counter()
    config = spec.config(task)
    data = _dataset(spec.data_dir)
    blocks = _blocks(spec.data_dir, config.probe_size, config.seed)
    load_seconds = time.perf_counter() - loading
    trainer = Trainer(config, data, np.random.default_rng(task.seed), LocalEvaluator(blocks))
    records: list = []
    try:
        trainer.run(records.extend)
    finally:
        trainer.close()
    names = config.setup_names
    findings = diagnose(records, names)
    results = []
    for weight_variance, name, summary in zip(
        spec.weight_variances, names, summarize(records, names), strict=True
    ):
        mine = [f for f in findings if f.setup == name]
        results.append(
            json_safe(
                {
                    "weight_variance": weight_variance,
                    "setup": name,
                    "setup_status": str(summary.status),
                    "train_accuracy": summary.final_train_accuracy,
                    "test_accuracy": summary.final_test_accuracy,
                    "best_test_accuracy": summary.best_test_accuracy,
                    "train_loss": summary.final_train_loss,
                    "grad_ratio": summary.grad_ratio,
                    "diagnosis": [str(f.kind) for f in mine],
                    "evidence": [f.evidence for f in mine],
                }
            )
        )
    return {
        "task": task.key,
        "activation": task.activation,
        "depth": task.depth,
        "seed": task.seed,
        "results": results,
        "seconds": trainer.seconds,
        "load_seconds": load_seconds,
        "started": started,
        "finished": time.time(),
        "pid": os.getpid(),
        "host": platform.node(),
    }


__all__ = ["run_task"]
