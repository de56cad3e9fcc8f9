"""Parsing and validating the run configuration."""

from __future__ import annotations

from dataclasses import fields

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vgtui.core.config import (
    RUN_OPTIONS,
    ConfigError,
    RunConfig,
    SetupSpec,
    parse_float,
    parse_hidden,
    parse_int,
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
        ("mish-he", "unknown activation 'mish'"),
        ("relu-bogus", "unknown init 'bogus'"),
        ("relu", "ACTIVATION-INIT"),
        ("relu-he:2", "only gauss:SIGMA and var:SIGMA_W\\^2 take a parameter"),
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


# -- any text at all: a value or ConfigError, never another exception (issue #9) --------------

TEXT_PARSERS = {
    **{option.flag: option.read for option in RUN_OPTIONS},
    "parse_int": lambda text: parse_int("n", text),
    "parse_float": lambda text: parse_float("x", text),
    "parse_hidden": parse_hidden,
    "parse_setup": parse_setup,
    "parse_setups": parse_setups,
}
HOSTILE = ["²", "٣", "1_000", "１２", "nan", "inf", "-inf", "1e999", "9" * 5000, "\x00", "4\u200b0"]
ALMOST_SETUPS = st.lists(
    st.sampled_from(["relu", "-", "he", "gauss", ":", ",", "1", "e", "٣", "²", "_", " ", "nan"]),
    max_size=8,
).map("".join)


@pytest.mark.parametrize("name", TEXT_PARSERS)
@settings(max_examples=150, deadline=None)
@given(text=st.one_of(st.text(), st.sampled_from(HOSTILE), ALMOST_SETUPS))
def test_every_parser_gives_a_value_or_config_error_for_any_text(name, text):
    try:
        TEXT_PARSERS[name](text)
    except ConfigError as error:
        assert "\n" not in str(error)


@pytest.mark.parametrize(
    ("key", "text", "message"),
    [
        ("iterations", "²", "iterations must be a whole number"),
        ("iterations", "٣", "iterations must be a whole number"),
        ("iterations", "1_000", "iterations must be a whole number"),
        ("iterations", "１２", "iterations must be a whole number"),
        ("seed", "9" * 5000, "seed must be a whole number"),
        ("learning_rate", "²", "learning rate must be a number"),
        ("learning_rate", "٠.١", "learning rate must be a number"),
        ("learning_rate", "1_0", "learning rate must be a number"),
        ("learning_rate", "nan", "learning rate must be a number"),
        ("learning_rate", "1e999", "learning rate must be a finite number"),
        ("hidden", "²", "hidden sizes must be positive integers"),
        ("hidden", "40,٣", "hidden sizes must be positive integers"),
        ("hidden", "4_0", "hidden sizes must be positive integers"),
        ("hidden", "9" * 5000, "hidden sizes must be positive integers"),
        ("setups", "relu-gauss:٣", "gauss sigma must be a number"),
        ("setups", "relu-gauss:1_0", "gauss sigma must be a number"),
        ("setups", "relu-gauss:1e999", "gauss sigma must be finite"),
        ("setups", "LEA\u212aY-RELU-HE", "setup must look like"),  # KELVIN SIGN: lower() is k
    ],
    ids=lambda value: value if len(value) < 20 else f"{value[:3]}...({len(value)} chars)",
)
def test_only_ascii_numbers_and_names_are_read(key, text, message):
    option = next(o for o in RUN_OPTIONS if o.key == key)
    with pytest.raises(ConfigError, match=message):
        option.read(text)


def test_numbers_still_read_as_before():
    assert parse_int("n", " 42 ") == 42 and parse_int("n", "-3") == -3
    assert parse_float("x", "1e-3") == 0.001 and parse_float("x", ".5") == 0.5
    assert parse_float("x", "+2.") == 2.0
    assert parse_setup("relu-gauss:5E-2") == SetupSpec("relu", "gauss", 0.05)


def test_messages_quote_long_text_briefly():
    with pytest.raises(ConfigError) as caught:
        parse_hidden("x" * 10_000)
    assert len(str(caught.value)) < 200


@pytest.mark.parametrize(
    ("text", "message"),
    [("tanh-var", "needs its weight variance"), ("tanh-var:-1", "must be positive")],
)
def test_var_init_needs_a_positive_variance(text, message):
    with pytest.raises(ConfigError, match=message):
        parse_setup(text)


def test_from_dict_reads_back_what_to_dict_wrote():
    config = RunConfig(
        iterations=30,
        hidden=(7, 5, 3),
        seed=4,
        setups=parse_setups("tanh-gauss:0.5,relu-var:2"),
        notebook_grad=True,
        bias_variance=0.05,
        probe_size=20,
        seeds=3,
    )
    assert RunConfig.from_dict(config.to_dict()) == config
    older = {k: v for k, v in RunConfig().to_dict().items() if k not in ("probe_size", "seeds")}
    assert RunConfig.from_dict(older) == RunConfig(probe_size=0)  # as runs before the probe
    with pytest.raises(ConfigError):
        RunConfig.from_dict({**config.to_dict(), "seeds": 0})
