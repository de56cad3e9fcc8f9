"""Parsing and validating the run configuration."""

from __future__ import annotations

from dataclasses import fields

import pytest

from vgtui.core.config import (
    RUN_OPTIONS,
    ConfigError,
    RunConfig,
    SetupSpec,
    parse_hidden,
    parse_setup,
    parse_setups,
)


def test_defaults_are_the_notebook():
    config = RunConfig()
    assert (config.iterations, config.batch_size, config.learning_rate) == (2000, 100, 0.1)
    assert config.hidden == (40, 20) and config.eval_every == 10
    assert config.setup_names == ("sigmoid-gauss", "relu-gauss", "sigmoid-xavier", "relu-he")
    assert config.preset_name == "notebook"
    assert RunConfig(seed=7).preset_name == "notebook"
    assert RunConfig(iterations=10).preset_name == "custom"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("tanh-xavier", SetupSpec("tanh", "xavier")),
        ("relu-gauss:0.05", SetupSpec("relu", "gauss", 0.05)),
        ("relu-gauss:1e-3", SetupSpec("relu", "gauss", 0.001)),
        ("leaky-relu-he", SetupSpec("leaky-relu", "he")),
        ("leaky_relu-he", SetupSpec("leaky-relu", "he")),
        (" Sigmoid-Gauss ", SetupSpec("sigmoid", "gauss")),
    ],
)
def test_parse_setup(text, expected):
    assert parse_setup(text) == expected
    assert parse_setup(expected.name) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("swish-he", "unknown activation 'swish'"),
        ("relu-lecun", "unknown init 'lecun'"),
        ("relu", "ACTIVATION-INIT"),
        ("relu-he:2", "only gauss takes a parameter"),
        ("relu-gauss:-1", "gauss sigma must be positive"),
        ("relu-gauss:abc", "gauss sigma must be a number"),
    ],
)
def test_parse_setup_errors(text, message):
    with pytest.raises(ConfigError, match=message):
        parse_setup(text)


def test_parse_setups_rejects_duplicates():
    assert parse_setups("relu-he, tanh-xavier") == (
        SetupSpec("relu", "he"),
        SetupSpec("tanh", "xavier"),
    )
    with pytest.raises(ConfigError, match="duplicate"):
        parse_setups("relu-he,relu-he")


@pytest.mark.parametrize("text", ["", "40,", "40,,20", "a,b", "0", "40,-2"])
def test_parse_hidden_errors(text):
    with pytest.raises(ConfigError):
        parse_hidden(text)


def test_parse_hidden():
    assert parse_hidden("40,20") == (40, 20)
    assert parse_hidden(" 128 , 64 ,32") == (128, 64, 32)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"learning_rate": 0.0}, "learning rate"),
        ({"learning_rate": -0.1}, "learning rate"),
        ({"learning_rate": float("nan")}, "learning rate"),
        ({"batch_size": 0}, "batch size"),
        ({"eval_every": 0}, "eval interval"),
        ({"iterations": 0}, "iterations"),
        ({"setups": ()}, "no setups"),
        ({"seed": -1}, "seed"),
    ],
)
def test_validate_rejects(changes, message):
    with pytest.raises(ConfigError, match=message):
        RunConfig(**changes).validate()


def test_validate_batch_against_training_set():
    with pytest.raises(ConfigError, match="larger than the training set"):
        RunConfig(batch_size=101).validate(train_size=100)
    assert RunConfig(batch_size=100).validate(train_size=100).batch_size == 100


def test_one_option_per_config_field_drives_cli_and_validation():
    """RUN_OPTIONS declares every RunConfig field once; its checks are the ones validate uses."""
    keys = [option.key for option in RUN_OPTIONS]
    assert sorted(keys) == sorted(f.name for f in fields(RunConfig))
    assert len(set(keys)) == len(keys)
    defaults = RunConfig()
    for option in RUN_OPTIONS:
        if option.kind == "switch":
            continue
        text = option.show(getattr(defaults, option.key))
        assert option.read(text) == getattr(defaults, option.key)  # show and read round-trip


@pytest.mark.parametrize(
    ("key", "text", "message"),
    [
        ("iterations", "0", "iterations must be >= 1"),
        ("iterations", "ten", "whole number"),
        ("seed", "-1", "seed must be >= 0"),
        ("learning_rate", "inf", "learning rate"),
        ("hidden", "40,x", "hidden sizes"),
        ("setups", "relu-he,relu-he", "duplicate"),
    ],
)
def test_options_read_text_or_say_why_not(key, text, message):
    option = next(o for o in RUN_OPTIONS if o.key == key)
    with pytest.raises(ConfigError, match=message):
        option.read(text)
