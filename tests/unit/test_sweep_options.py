"""The sweep's option table and the run's agree on every setting they share: the same flag and
the same bounds, from the command line to SweepSpec.validate (``vgtui sweep --seeds 51`` was
accepted while ``vgtui --seeds 51`` is refused)."""

from __future__ import annotations

import contextlib
import io
from dataclasses import fields, replace

import pytest

from vgtui.cli import sweep as sweep_cli
from vgtui.cli import train as train_cli
from vgtui.core.config import RUN_OPTIONS, ConfigError, RunConfig
from vgtui.core.sweep.spec import PRESETS, SWEEP_OPTIONS, SweepSpec

RUN = {option.key: option for option in RUN_OPTIONS}
SWEEP = {option.key: option for option in SWEEP_OPTIONS}
SHARED = sorted({f.name for f in fields(SweepSpec)} & {f.name for f in fields(RunConfig)})
TEXTS = ("-1", "0", "1", "2", "50", "51", "1000", "0.5", "1e9", "x", "", "100000000",
         "100000001", "1" + "0" * 30, "9" * 4000)  # fmt: skip


def test_every_shared_setting_is_in_both_tables():
    assert SHARED == [
        "batch_size",
        "bias_variance",
        "eval_every",
        "iterations",
        "learning_rate",
        "seeds",
    ]
    assert set(SHARED) <= SWEEP.keys() and set(SHARED) <= RUN.keys()
    assert set(SWEEP) <= {f.name for f in fields(SweepSpec)}


def outcome(option, text: str):
    try:
        return option.read(text)
    except ConfigError:
        return "refused"


@pytest.mark.parametrize("key", SHARED)
def test_a_shared_option_reads_like_the_runs(key):
    sweep, run = SWEEP[key], RUN[key]
    assert sweep.flag == run.flag
    assert [outcome(sweep, t) for t in TEXTS] == [outcome(run, t) for t in TEXTS]


def accepts(parser, flag: str, text: str) -> bool:
    try:
        with contextlib.redirect_stderr(io.StringIO()):
            parser.parse_args([flag, text])
    except SystemExit as exit_:
        assert exit_.code == 2
        return False
    return True


@pytest.mark.parametrize("key", SHARED)
def test_vgtui_sweep_refuses_what_vgtui_refuses(key):
    sweep, train = sweep_cli.build_parser(), train_cli.build_parser()
    flag = RUN[key].flag
    assert [accepts(sweep, flag, t) for t in TEXTS] == [accepts(train, flag, t) for t in TEXTS]


def test_seeds_51_is_refused_by_the_command_and_by_the_spec():
    with pytest.raises(SystemExit) as exit_, contextlib.redirect_stderr(io.StringIO()) as err:
        sweep_cli.main(["--seeds", "51"])
    assert exit_.value.code == 2 and "seeds must be in 1..50" in err.getvalue()
    with pytest.raises(ConfigError, match="seeds must be in 1..50"):
        replace(PRESETS["quick"], seeds=51).validate()
    assert replace(PRESETS["quick"], seeds=50).validate().seeds == 50


def test_the_connect_timeout_is_seconds_from_a_tenth_to_ten_minutes():
    parser = sweep_cli.build_parser()
    assert parser.parse_args([]).connect_timeout == 3
    assert parser.parse_args(["--connect-timeout", "0.5"]).connect_timeout == 0.5
    for text in ["0", "0.05", "601", "nan", "inf", "-1", "1s", ""]:
        assert not accepts(parser, "--connect-timeout", text), text


@pytest.mark.parametrize("flag", ["--iters", "--eval-every"])
@pytest.mark.parametrize("main", [sweep_cli.main, train_cli.main], ids=["sweep", "vgtui"])
def test_10_to_the_30_iterations_are_refused_by_both_commands(flag, main, tmp_path):
    """An upper bound (there was none): 10^30 steps would be accepted and run forever."""
    args = ["--out", str(tmp_path / "runs"), flag, "1" + "0" * 30]
    with pytest.raises(SystemExit) as exit_, contextlib.redirect_stderr(io.StringIO()) as err:
        main(["--no-ui", *args] if main is train_cli.main else args)
    assert exit_.value.code == 2 and not (tmp_path / "runs").exists()
    (line,) = err.getvalue().splitlines()
    assert "must be at most 100,000,000, got about 10^30" in line
    with pytest.raises(ConfigError, match="at most 100,000,000"):
        replace(PRESETS["quick"], iterations=10**8 + 1).validate()
    assert replace(PRESETS["quick"], iterations=10**8).iterations == 10**8
