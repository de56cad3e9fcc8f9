"""Presets from the literature: each one's qualitative result on a short run, and --preset."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest

from vgtui.core.config import PRESETS, RunConfig
from vgtui.core.trainer import Trainer


def last_records(config: RunConfig, mnist) -> dict:
    records = []
    trainer = Trainer(config, mnist, np.random.default_rng(0))
    trainer.run(records.extend)
    trainer.close()
    return {r.setup: r for r in records if r.iteration == config.iterations}


def short(name: str, iterations: int) -> RunConfig:
    return replace(PRESETS[name].config, iterations=iterations, eval_every=iterations // 2)


def test_dlfs_init_std_001_stays_at_chance_and_he_learns_first(mnist):
    last = last_records(short("dlfs-init", 300), mnist)
    assert abs(last["relu-gauss"].train_loss - 2.30) < 0.01
    assert last["relu-gauss"].test_accuracy < 0.15
    assert last["relu-he"].train_loss < 1.0 < last["relu-xavier"].train_loss


def test_he_deep_learns_with_he_and_stalls_with_xavier(mnist):
    last = last_records(short("he-deep", 200), mnist)
    assert last["relu-he"].test_accuracy > 0.3
    assert last["relu-xavier"].test_accuracy < 0.15


def test_glorot_normalized_init_trains_faster_than_standard(mnist):
    last = last_records(short("glorot", 300), mnist)
    for activation in ("tanh", "softsign"):
        normalized, standard = last[f"{activation}-glorot"], last[f"{activation}-uniform"]
        assert normalized.test_accuracy > standard.test_accuracy + 0.2


def test_notebook_remedies_batch_norm_and_adam_rescue_the_stalled_sigmoid(mnist):
    last = last_records(short("notebook-remedies", 200), mnist)
    assert last["sigmoid-gauss"].test_accuracy < 0.15
    assert last["sigmoid-gauss+bn"].test_accuracy > 0.6
    assert last["sigmoid-gauss@adam:0.001"].test_accuracy > 0.25


def test_dlfs_optimizers_sgd_is_the_slowest(mnist):
    last = last_records(short("dlfs-optimizers", 200), mnist)
    sgd = last.pop("relu-he")
    assert all(sgd.test_accuracy < r.test_accuracy - 0.05 for r in last.values())
    assert all(sgd.train_loss > r.train_loss for r in last.values())


def test_residual_deep_plain_nets_stall_and_residual_ones_learn(mnist):
    last = last_records(short("residual-deep", 200), mnist)
    for activation in ("sigmoid", "tanh"):
        plain, residual = last[f"{activation}-xavier"], last[f"{activation}-xavier+res"]
        assert residual.test_accuracy > 0.4
        assert residual.test_accuracy > plain.test_accuracy + 0.25


def test_dlfs_batchnorm_learns_at_scales_where_plain_fails(mnist):
    last = last_records(short("dlfs-batchnorm", 100), mnist)
    for scale in ("", ":0.001", ":0.0001"):
        assert last[f"relu-gauss{scale}"].test_accuracy < 0.15
        assert last[f"relu-gauss{scale}+bn"].test_accuracy > 0.35
    assert "relu-gauss:1" not in last  # diverged: no record at the end
    assert last["relu-gauss:1+bn"].test_accuracy > 0.15


@pytest.mark.parametrize("name", list(PRESETS))
def test_every_preset_is_valid_and_named(name):
    config = PRESETS[name].config.validate()
    assert config.preset_name == name
    assert replace(config, seed=5).preset_name == name


def test_the_command_line_starts_from_a_preset(tmp_path, run_vgtui):
    done = run_vgtui(
        "--no-ui", "--preset", "he-deep", "--iters", "20", "--eval-every", "10",
        "--out", str(tmp_path),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    (run,) = tmp_path.iterdir()
    config = json.loads((run / "config.json").read_text())
    assert config["config"]["hidden"] == [64] * 30  # from the preset
    assert config["config"]["iterations"] == 20  # from the flag
    assert config["data"]["kind"] == "bundled"
