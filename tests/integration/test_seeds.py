"""--seeds: each setup trained with several seeds in lockstep; the charts' mean and band,
the summary's mean ± spread (issue #13)."""

from __future__ import annotations

import csv
import json
import math
from dataclasses import replace

import numpy as np

from vgtui.core.config import RunConfig, parse_setups
from vgtui.core.records import MetricRecord
from vgtui.core.summary import summarize
from vgtui.core.trainer import Trainer
from vgtui.ui.history import RunHistory

SHORT = RunConfig(iterations=40, eval_every=10, setups=parse_setups("sigmoid-xavier,relu-he"))


def records_of(config: RunConfig, data) -> list[MetricRecord]:
    records: list[MetricRecord] = []
    trainer = Trainer(config, data, np.random.default_rng(config.seed))
    try:
        trainer.run(records.extend)
    finally:
        trainer.close()
    return records


def same_computation(a: MetricRecord, b: MetricRecord) -> bool:
    """The same numbers up to float32 rounding: more setups in lockstep widen the shared
    first-layer product, and BLAS may sum a wider product in another order (AVX-512 kernels
    do), so floats agree to about 1e-7, not bit for bit; counts (accuracies on 10,000 test
    images, zero-gradient entries) agree exactly."""

    def close(x: object, y: object) -> bool:
        if isinstance(x, float) and isinstance(y, float):
            both_nan = math.isnan(x) and math.isnan(y)  # a share that does not apply
            return both_nan or math.isclose(x, y, rel_tol=1e-5, abs_tol=1e-12)
        if isinstance(x, tuple) and isinstance(y, tuple):
            return len(x) == len(y) and all(close(u, v) for u, v in zip(x, y, strict=True))
        if hasattr(x, "__dataclass_fields__") and type(x) is type(y):
            return all(close(getattr(x, f), getattr(y, f)) for f in x.__dataclass_fields__)
        return x == y

    return close(replace(a, seconds=0.0), replace(b, seconds=0.0))


def test_the_first_seed_is_the_one_seed_run_and_the_others_start_elsewhere(mnist):
    one = records_of(SHORT, mnist)
    three = records_of(replace(SHORT, seeds=3), mnist)
    names = {r.setup for r in three}
    assert names == {"sigmoid-xavier", "relu-he", "sigmoid-xavier#2", "relu-he#2",
                     "sigmoid-xavier#3", "relu-he#3"}  # fmt: skip
    first = [r for r in three if r.setup in SHORT.setup_names]
    assert len(first) == len(one)
    for alone, in_lockstep in zip(one, first, strict=True):
        assert same_computation(alone, in_lockstep), (alone, in_lockstep)
    by_name = {name: [r.test_accuracy for r in three if r.setup == name] for name in names}
    assert by_name["relu-he#2"] != by_name["relu-he"] != by_name["relu-he#3"]
    # the same seeds again give the same numbers
    again = records_of(replace(SHORT, seeds=3), mnist)
    assert [r.test_accuracy for r in again] == [r.test_accuracy for r in three]


def test_the_summary_and_the_history_show_the_mean_and_the_spread(mnist):
    config = replace(SHORT, seeds=3)
    records = records_of(config, mnist)
    (xavier, he) = summarize(records, config.setup_names)
    finals = [r.test_accuracy for r in records if r.iteration == 40 and "relu-he" in r.setup]
    assert he.seeds == 3 and he.setup == "relu-he"
    assert math.isclose(he.final_test_accuracy, sum(finals) / 3)
    assert math.isclose(he.final_test_spread, (max(finals) - min(finals)) / 2)
    history = RunHistory(config.setup_names)
    history.add(records)
    series = history.series["relu-he"]
    assert list(history.series) == ["sigmoid-xavier", "relu-he"] and series.seeds == 3
    assert series.iterations == [10, 20, 30, 40]
    assert math.isclose(series.test_accuracy[-1], sum(finals) / 3)
    assert (series.test_low[-1], series.test_high[-1]) == (min(finals), max(finals))
    single = RunHistory(SHORT.setup_names)
    single.add(r for r in records if r.setup in SHORT.setup_names)
    assert single.series["relu-he"].test_accuracy == [
        r.test_accuracy for r in records if r.setup == "relu-he"
    ]
    assert single.series["relu-he"].seeds == 1


def test_seeds_on_the_command_line(tmp_path, run_vgtui):
    completed = run_vgtui(
        "--no-ui", "--seeds", "2", "--iters", "20", "--setups", "sigmoid-xavier",
        "--out", str(tmp_path),
    )  # fmt: skip
    assert completed.returncode == 0, completed.stderr
    (run_dir,) = tmp_path.iterdir()
    summary = json.loads((run_dir / "summary.json").read_text())
    (xavier,) = summary["setups"]
    assert xavier["setup"] == "sigmoid-xavier" and xavier["seeds"] == 2
    row = next(line for line in completed.stdout.splitlines() if line.startswith("sigmoid-x"))
    assert f"±{100 * xavier['final_test_spread']:.1f}" in row
    config = json.loads((run_dir / "config.json").read_text())["config"]
    assert config["seeds"] == 2
    with (run_dir / "activations.csv").open() as handle:
        scales = {(r["setup"], r["hist_scale"]) for r in csv.DictReader(handle)}
    assert scales == {("sigmoid-xavier", "linear"), ("sigmoid-xavier#2", "linear")}
    bad = run_vgtui("--no-ui", "--seeds", "0", "--out", str(tmp_path), timeout=60)
    assert bad.returncode == 2 and "seeds" in bad.stderr and "Traceback" not in bad.stderr
