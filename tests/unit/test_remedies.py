"""The remedies (issue 20): the setup grammar, each optimizer's update against its formula,
batch norm and residual gradients against finite differences in float64, and the engine's
float32 training against the float64 reference (tests/reference.py) over several steps."""

from __future__ import annotations

import re
from functools import partial

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.reference import (
    RemedyNet,
    bank_gradients,
    bank_parameters,
    engine_pass,
    optimizer_step,
    remedy_nets,
)
from vgtui.core.bank import NetworkBank
from vgtui.core.config import ConfigError, RunConfig, SetupSpec, parse_setup, parse_setups
from vgtui.core.inference import InferenceBank, InferenceBlock
from vgtui.core.vocabulary import (
    ACTIVATION_NAMES,
    DEFAULT_GAUSS_SIGMA,
    INIT_NAMES,
    OPTIMIZER_NAMES,
)

# -- the grammar ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "spec"),
    [
        ("sigmoid-gauss+bn", SetupSpec("sigmoid", "gauss", batch_norm=True)),
        ("sigmoid-xavier+res", SetupSpec("sigmoid", "xavier", residual=True)),
        ("relu-he@adam", SetupSpec("relu", "he", optimizer="adam")),
        ("relu-he@adam:0.001", SetupSpec("relu", "he", optimizer="adam", learning_rate=0.001)),
        (" Tanh-Xavier+RES+bn @ Momentum:0.05 ", SetupSpec("tanh", "xavier", batch_norm=True,
                                                          residual=True, optimizer="momentum",
                                                          learning_rate=0.05)),  # fmt: skip
        ("relu-gauss:1e+1+bn", SetupSpec("relu", "gauss", 10.0, batch_norm=True)),
        ("relu-he@sgd", SetupSpec("relu", "he")),
    ],
)
def test_setups_parse(text, spec):
    assert parse_setup(text) == spec
    assert parse_setup(spec.name) == spec


def test_names_are_canonical():
    assert parse_setup("relu-he+res+bn@adam:1e-3").name == "relu-he+bn+res@adam:0.001"
    assert parse_setup("relu-he@sgd").name == "relu-he"
    assert parse_setup("relu-he@sgd:0.05").name == "relu-he@sgd:0.05"
    assert parse_setup("sigmoid-gauss").plain and not parse_setup("sigmoid-gauss+bn").plain


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("relu-he+dropout", "unknown modifier '+dropout'"),
        ("relu-he+bn+bn", "twice"),
        ("relu-he@lion", "unknown optimizer 'lion'"),
        ("relu-he@adam:", "learning rate must be a number"),
        ("relu-he@adam:-1", "learning rate must be positive"),
        ("relu-he@adam:inf", "learning rate must be a number"),
        ("relu-he+", "setup must look like"),
    ],
)
def test_bad_setups_say_why(text, words):
    with pytest.raises(ConfigError, match=re.escape(words)):
        parse_setup(text)


def test_notebook_quirk_refuses_shortcuts():
    with pytest.raises(ConfigError, match="not with \\+res"):
        RunConfig(setups=parse_setups("sigmoid-xavier+res"), notebook_grad=True).validate()


NICE = st.floats(1e-5, 100.0).map(lambda x: float(f"{x:.3g}"))


@st.composite
def setups(draw):
    init = draw(st.sampled_from(INIT_NAMES))
    sigma = draw(NICE) if init in ("gauss", "var") else DEFAULT_GAUSS_SIGMA
    rate = draw(st.none() | st.floats(1e-6, 10.0, allow_subnormal=False))
    return SetupSpec(draw(st.sampled_from(ACTIVATION_NAMES)), init, sigma, draw(st.booleans()),
                     draw(st.booleans()), draw(st.sampled_from(OPTIMIZER_NAMES)), rate)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(setups())
def test_names_parse_back(spec):
    assert parse_setup(spec.name) == spec
    assert parse_setup(spec.name.upper()).name == spec.name


# -- optimizers ----------------------------------------------------------------------------------

SIZES = (12, 6, 6, 6, 4)


def batch(rng, rows=16, inputs=SIZES[0]):
    return rng.random((rows, inputs)), rng.integers(0, SIZES[-1], rows)


@pytest.mark.parametrize("name", OPTIMIZER_NAMES)
def test_each_optimizer_follows_its_formula(name):
    """Five steps of the engine's update against the formula applied to the engine's own
    gradients in float64: the update alone is checked."""
    setups = [SetupSpec("tanh", "xavier", optimizer=name, learning_rate=0.05),
              SetupSpec("relu", "he", batch_norm=True)]  # fmt: skip
    bank = NetworkBank(SIZES, setups, np.random.default_rng(1), dtype=np.float64)
    rng, states = np.random.default_rng(2), [{} for _ in range(4 * len(SIZES))]
    for t in range(1, 6):
        x, labels = batch(rng)
        engine_pass(bank, x, labels)
        expected = bank_parameters(bank, 0)
        for param, grad, state in zip(expected, bank_gradients(bank, 0), states, strict=False):
            optimizer_step(name, 0.05, t, param, grad, state)
        bank.apply_gradients(0.1)
        for got, want in zip(bank_parameters(bank, 0), expected, strict=True):
            np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-15)


def test_frozen_setup_stays_put_under_momentum():
    setups = [SetupSpec("tanh", "xavier", optimizer="momentum"), SetupSpec("relu", "he")]
    bank = NetworkBank(SIZES, setups, np.random.default_rng(1))
    x, labels = batch(np.random.default_rng(2))
    for _ in range(2):
        engine_pass(bank, x, labels)
        bank.apply_gradients(0.1)
    bank.freeze(0)
    engine_pass(bank, x, labels)
    bank.apply_gradients(0.1)
    assert not any(p.any() for p in bank_parameters(bank, 0))


# -- batch norm and residual: exact gradients ----------------------------------------------------

REMEDIES = [
    SetupSpec("sigmoid", "gauss", 0.5, batch_norm=True),
    SetupSpec("tanh", "xavier", residual=True),
    SetupSpec("elu", "he", batch_norm=True, residual=True),
    SetupSpec("silu", "xavier", residual=True, optimizer="adam", learning_rate=0.01),
]
DEPTHS = [(12, 6, 4), (12, 6, 6, 6, 4), (12, 8, 8, 5, 5, 5, 5, 4)]


def numeric_gradient(loss, array, index, eps=1e-6):
    saved = array[index]
    array[index] = saved + eps
    plus = loss()
    array[index] = saved - eps
    minus = loss()
    array[index] = saved
    return (plus - minus) / (2 * eps)


@pytest.mark.parametrize("sizes", DEPTHS)
def test_reference_gradients_match_finite_differences(sizes):
    rng = np.random.default_rng(len(sizes))
    x, labels = batch(rng, inputs=sizes[0])
    for spec in REMEDIES:
        weights = [rng.normal(0, 0.7, (a, b)) for a, b in zip(sizes, sizes[1:], strict=False)]
        biases = [rng.normal(0, 0.1, b) for b in sizes[1:]]
        net = RemedyNet(weights, biases, spec.activation, spec.batch_norm, spec.residual)
        for gamma, beta in zip(net.gammas, net.betas, strict=True):
            gamma += rng.normal(0, 0.3, gamma.shape)
            beta += rng.normal(0, 0.3, beta.shape)
        _, grads = net.gradients(x, labels)
        loss = partial(net.loss, x, labels)
        for param, grad in zip(net.parameters(), grads, strict=True):
            for index in list(np.ndindex(param.shape))[:: max(1, param.size // 7)]:
                numeric = numeric_gradient(loss, param, index)
                assert grad[index] == pytest.approx(numeric, rel=1e-5, abs=1e-8)


@pytest.mark.parametrize("sizes", DEPTHS)
def test_engine_gradients_match_finite_differences(sizes):
    """The engine itself in float64: its backward pass against its forward pass."""
    bank = NetworkBank(sizes, REMEDIES, np.random.default_rng(5), dtype=np.float64)
    rng = np.random.default_rng(6)
    for array in [*bank.params.gammas, *bank.params.betas]:
        array += rng.normal(0, 0.3, array.shape)
    x, labels = batch(rng, inputs=sizes[0])
    engine_pass(bank, x, labels)
    grads = np.array(bank._grads)  # noqa: SLF001 - every gradient at once
    flat = bank._params  # noqa: SLF001

    def loss():
        return float(engine_pass(bank, x, labels).sum())

    for index in rng.choice(flat.size, 60, replace=False):
        numeric = numeric_gradient(loss, flat, index)
        assert grads[index] == pytest.approx(numeric, rel=1e-5, abs=1e-9)


@pytest.mark.parametrize("sizes", DEPTHS[1:])
def test_engine_trains_as_the_float64_reference(sizes):
    """Setups with different remedies and optimizers in one lockstep bank, float32, against
    each one's float64 reference on the same mini-batches, for ten steps; then the
    evaluation's forward pass (running averages folded in) against the reference's."""
    specs = [*REMEDIES, SetupSpec("relu", "he"), SetupSpec("tanh", "xavier", optimizer="rmsprop",
                                                           learning_rate=0.003)]  # fmt: skip
    bank = NetworkBank(sizes, specs, np.random.default_rng(7))
    nets = remedy_nets(bank, learning_rate=0.1)
    rng = np.random.default_rng(8)
    for _ in range(10):
        x, labels = batch(rng, rows=32, inputs=sizes[0])
        losses = engine_pass(bank, x.astype(np.float32), labels)
        bank.apply_gradients(0.1)
        for net, loss in zip(nets, losses, strict=True):
            assert loss == pytest.approx(net.step(x, labels), rel=1e-4)
    for s, net in enumerate(nets):
        for got, want in zip(bank_parameters(bank, s), net.parameters(), strict=True):
            np.testing.assert_allclose(got, want, rtol=2e-3, atol=2e-5)
    x, labels = batch(rng, rows=20, inputs=sizes[0])
    inputs = np.vstack([x.T, np.ones((1, 20))]).astype(np.float32)
    block = InferenceBlock(inputs, np.arange(sizes[0] + 1), labels)
    snapshot = bank.evaluation_snapshot()
    logits = InferenceBank(sizes, snapshot.slot_activations, snapshot.slot_residual).logits(
        block, snapshot
    )[bank.slot_of]
    for s, net in enumerate(nets):
        want = net.forward(x, train=False)[0]
        np.testing.assert_allclose(logits[s].T, want, rtol=1e-3, atol=1e-4)


def test_help_lists_the_remedies():
    from vgtui.cli.train import build_parser
    from vgtui.ui.help import help_text

    for text in (" ".join(build_parser().format_help().split()), " ".join(help_text().split())):
        assert "+bn (batch normalization" in text and "+res (an identity shortcut" in text
        assert all(name in text for name in OPTIMIZER_NAMES)
        assert "adam (0.001)" in text


# -- what the records show -----------------------------------------------------------------------


def test_records_show_batch_norm_at_work(mnist):
    import json

    from vgtui.core.records import MetricRecord
    from vgtui.core.trainer import Trainer

    config = RunConfig(setups=parse_setups("sigmoid-gauss,sigmoid-gauss+bn,relu-he@adam:0.001"),
                       iterations=20, eval_every=10)  # fmt: skip
    records = []
    trainer = Trainer(config, mnist, np.random.default_rng(0))
    trainer.run(records.extend)
    trainer.close()
    last = {r.setup: r for r in records if r.iteration == 20}
    bn = last["sigmoid-gauss+bn"].layers
    assert all(layer.gamma is not None and layer.running_std > 0 for layer in bn[:-1])
    assert bn[-1].gamma is None  # the output layer has no batch norm
    assert all(layer.gamma is None for layer in last["sigmoid-gauss"].layers)
    for record in last.values():
        read = MetricRecord.from_dict(json.loads(json.dumps(record.to_dict())))
        assert read.layers == record.layers and read.setup == record.setup
    assert "gamma" not in json.dumps(last["sigmoid-gauss"].to_dict())


def test_update_ratio_of_a_remedy_is_the_update_made():
    """lr |grad| / |W| is SGD's step; with another optimizer the ratio is the step it took."""
    setups = [SetupSpec("tanh", "xavier", optimizer="adam", learning_rate=0.01),
              SetupSpec("relu", "he", batch_norm=True)]  # fmt: skip
    bank = NetworkBank(SIZES, setups, np.random.default_rng(1))
    x, labels = batch(np.random.default_rng(2))
    engine_pass(bank, x.astype(np.float32), labels)
    before = [bank.weight(0, n).copy() for n in range(bank.num_layers)]
    bank.apply_gradients(0.1)
    stats = bank.layer_statistics(bank.buffers(len(labels)), 0.1)
    for layer, old in enumerate(before):
        new = bank.weight(0, layer)
        ratio = np.linalg.norm(new - old) / np.linalg.norm(new)
        assert stats[0, layer, 2] == pytest.approx(ratio, rel=1e-4)
    grad = np.linalg.norm(bank.weight_grad(1, 2)) / np.linalg.norm(bank.weight(1, 2))
    assert stats[1, 2, 2] == pytest.approx(0.1 * grad, rel=1e-4)  # SGD at the run's rate
    assert stats[1, 0, 4] == pytest.approx(bank.params.gammas[0][bank.slot_of[1]].mean())


def test_probe_measures_the_activation_and_the_diagnosis_knows_batch_norm(mnist):
    """A +res layer's statistics are of f's output, not of the sum with its shortcut; a
    batch-normalized sigmoid-gauss is not found to collapse, the plain one is."""
    from vgtui.core.diagnosis import diagnose
    from vgtui.core.trainer import Trainer
    from vgtui.core.vocabulary import Diagnosis

    config = RunConfig(setups=parse_setups("sigmoid-gauss,sigmoid-gauss+bn,sigmoid-xavier+res"),
                       hidden=(40, 20, 20, 20), iterations=100, eval_every=50)  # fmt: skip
    records = []
    trainer = Trainer(config, mnist, np.random.default_rng(0))
    trainer.run(records.extend)
    trainer.close()
    residual = [r for r in records if r.setup == "sigmoid-xavier+res"][-1]
    assert all(0 < layer.mean < 1 for layer in residual.activations)  # sums would pass 1
    found = {(f.setup, f.kind) for f in diagnose(records, config.setup_names)}
    assert ("sigmoid-gauss", Diagnosis.COLLAPSE) in found
    assert not {kind for setup, kind in found if setup == "sigmoid-gauss+bn"} & {
        Diagnosis.COLLAPSE, Diagnosis.STALLED, Diagnosis.VANISHING}


def test_probe_experiment_applies_batch_norm_and_shortcuts():
    """vgtui probe at initialisation: +bn keeps every layer of a small-weight sigmoid net
    spread out where the plain one collapses to 0.5; +res measures the activation alone."""
    from vgtui.core.probe import probe, probe_inputs

    inputs = probe_inputs("randn", 500, 50, np.random.default_rng(0))
    setups = parse_setups("sigmoid-gauss,sigmoid-gauss+bn,sigmoid-xavier+res")
    plain, normalized, residual = probe(inputs, setups, 6, 50, 0)
    assert plain.layers[-1].std < 0.01 and normalized.layers[-1].std > 0.15
    assert all(0 < layer.mean < 1 for layer in residual.layers)
