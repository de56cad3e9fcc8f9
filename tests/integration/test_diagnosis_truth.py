"""The diagnosis checked against the truth: configurations run through the real engine, each
with the findings that must appear and those that must not, and the mechanism each claims
established independently by a float64 MLP written here (its own draws, its own mini-batches,
the textbook formulas; nothing of vgtui's engine, only its images). Every command of issue
18's items 1-6 is here, shortened to the fewest iterations that show it; items 1, 2, 3 (its
first steps) and 6 also run as their exact commands, through ``python -m vgtui``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache

import numpy as np
import pytest

from vgtui.core.config import RunConfig, parse_setup, parse_setups
from vgtui.core.data import load_bundled
from vgtui.core.diagnosis import diagnose
from vgtui.core.trainer import Trainer
from vgtui.core.vocabulary import Diagnosis as D

CHANCE = math.log(10)


# --- the float64 reference -------------------------------------------------------------------


def initial_weights(init: str, parameter: float, fan_in: int, fan_out: int, rng) -> np.ndarray:
    """The inits as their papers define them."""
    if init == "uniform":
        return rng.uniform(-1, 1, (fan_in, fan_out)) / math.sqrt(fan_in)
    if init == "glorot":
        return rng.uniform(-1, 1, (fan_in, fan_out)) * math.sqrt(6 / (fan_in + fan_out))
    std = {
        "gauss": parameter,
        "xavier": 1 / math.sqrt(fan_in),
        "he": math.sqrt(2 / fan_in),
        "var": math.sqrt(parameter / fan_in),
    }[init]
    return rng.normal(0.0, std, (fan_in, fan_out))


def activate(name: str, u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The activation and its slope at ``u``."""
    if name == "sigmoid":
        s = 1 / (1 + np.exp(-u))
        return s, s * (1 - s)
    if name == "tanh":
        t = np.tanh(u)
        return t, 1 - t * t
    if name == "relu":
        return np.maximum(u, 0), (u > 0).astype(float)
    if name == "leaky-relu":
        return np.where(u > 0, u, 0.01 * u), np.where(u > 0, 1.0, 0.01)
    if name == "softsign":
        return u / (1 + np.abs(u)), 1 / (1 + np.abs(u)) ** 2
    raise ValueError(name)


@dataclass
class Step:
    """One SGD step: the loss, and per weight layer (input layer first) the std of the error
    at its output, its gradient norm, lr |grad| / |W| after the step, and its weights' std."""

    loss: float
    delta_std: list[float]
    grad_norm: list[float]
    update: list[float]
    weight_std: list[float]

    @property
    def backward_ratio(self) -> float:
        return self.delta_std[0] / self.delta_std[-1]


class Reference:
    """A float64 MLP of the setup's activation and init, with its own random draws."""

    def __init__(self, setup: str, hidden: tuple[int, ...], bias_variance: float = 0.0,
                 seed: int = 12345) -> None:  # fmt: skip
        spec = parse_setup(setup)
        self.rng = np.random.default_rng(seed)
        self.activation = spec.activation
        sizes = (784, *hidden, 10)
        self.weights = [
            initial_weights(spec.init, spec.gauss_sigma, a, b, self.rng)
            for a, b in zip(sizes, sizes[1:], strict=False)
        ]
        self.starting_std = [float(w.std()) for w in self.weights]
        self.biases = [self.rng.normal(0, math.sqrt(bias_variance), b) for b in sizes[1:]]

    def forward(self, x: np.ndarray) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """Each layer's input and the slopes of each hidden layer."""
        inputs, slopes = [x], []
        for w, b in zip(self.weights[:-1], self.biases[:-1], strict=True):
            a, slope = activate(self.activation, inputs[-1] @ w + b)
            inputs.append(a)
            slopes.append(slope)
        return inputs, slopes

    def step(self, x: np.ndarray, labels: np.ndarray, lr: float) -> Step:
        inputs, slopes = self.forward(x)
        logits = inputs[-1] @ self.weights[-1] + self.biases[-1]
        logits -= logits.max(axis=1, keepdims=True)
        probs = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
        rows = np.arange(len(labels))
        loss = float(-np.log(np.maximum(probs[rows, labels], 1e-300)).mean())
        delta = probs
        delta[rows, labels] -= 1
        delta /= len(labels)
        deltas, grads = [], []
        for layer in range(len(self.weights) - 1, -1, -1):
            deltas.append(delta)
            grads.append((inputs[layer].T @ delta, delta.sum(axis=0)))
            if layer:
                delta = (delta @ self.weights[layer].T) * slopes[layer - 1]
        deltas.reverse()
        grads.reverse()
        for layer, (dw, db) in enumerate(grads):
            self.weights[layer] -= lr * dw
            self.biases[layer] -= lr * db
        return Step(
            loss,
            [float(d.std()) for d in deltas],
            [float(np.linalg.norm(dw)) for dw, _ in grads],
            [
                lr * float(np.linalg.norm(dw) / np.linalg.norm(w))
                for (dw, _), w in zip(grads, self.weights, strict=True)
            ],  # fmt: skip
            [float(w.std()) for w in self.weights],
        )

    def probe(self, x: np.ndarray) -> list[dict]:
        """Per hidden layer: units never active (> 0), the share of activations beyond 99%
        of a bounded range, the spread across inputs over the magnitude, the std."""
        inputs, _ = self.forward(x)
        layers = []
        for a in inputs[1:]:
            bounded = {"sigmoid": np.abs(2 * a - 1), "tanh": np.abs(a), "softsign": np.abs(a)}
            edge = bounded.get(self.activation)
            across = a.var(axis=0).mean()
            layers.append({
                "dead": int((a.max(axis=0) <= 0).sum()) if self.activation == "relu" else 0,
                "saturated": float((edge > 0.99).mean()) if edge is not None else 0.0,
                "spread": float(math.sqrt(across / max((a * a).mean(), 1e-300))),
                "std": float(a.std()),
                "units": a.shape[1],
            })  # fmt: skip
        return layers


@cache
def images() -> tuple[np.ndarray, np.ndarray]:
    data = load_bundled()
    return data.train_images.astype(np.float64) / 255, data.train_labels.astype(np.int64)


def train(setup: str, hidden: tuple[int, ...], lr: float, steps: int, batch: int = 100,
          bias_variance: float = 0.0) -> tuple[Reference, list[Step]]:  # fmt: skip
    """``steps`` SGD steps of the reference on its own random mini-batches."""
    x, y = images()
    net = Reference(setup, hidden, bias_variance)
    taken = []
    for _ in range(steps):
        rows = net.rng.choice(len(y), batch, replace=False)
        taken.append(net.step(x[rows], y[rows], lr))
    return net, taken


def probe_images() -> np.ndarray:
    return images()[0][-1000:]


def natural(net: Reference, layer: int) -> float:
    """The layer's starting std, or He's if larger."""
    fan_in = net.weights[layer].shape[0]
    return max(net.starting_std[layer], math.sqrt(2 / fan_in))


# --- what each claimed mechanism means, from first principles ---------------------------------


def steps_are_tiny_but_the_gradient_is_sound(setup, hidden, lr, bias_variance=0.0):
    net, (step,) = train(setup, hidden, lr, 1)
    assert max(step.update) < 1e-5  # every layer moves < 1e-5 of its weights ...
    assert min(u / lr for u in step.update) > 1e-3  # ... as lr 0.1 would move them > 1e-4
    assert step.backward_ratio > 1e-3  # the error reaches layer 1
    for layer in net.probe(probe_images()):
        assert layer["dead"] < layer["units"] / 4 and layer["saturated"] < 0.5
        assert layer["spread"] > 0.01


def the_error_vanishes_on_its_way_back(setup, hidden, lr, bias_variance=0.0):
    net = Reference(setup, hidden, bias_variance)
    x, y = images()
    step = net.step(x[:100], y[:100], lr)
    assert step.backward_ratio < 1e-3 or step.grad_norm[0] < 1e-2 * step.grad_norm[-1]
    assert step.backward_ratio > 0  # not a wall of dead or saturated units: it shrinks


def the_error_reaches_the_first_layer(setup, hidden, lr, bias_variance=0.0):
    net = Reference(setup, hidden, bias_variance)
    x, y = images()
    step = net.step(x[:100], y[:100], lr)
    assert 1e-3 < step.backward_ratio < 1e3


def big_steps_blow_up_the_weights_and_kill_units(setup, hidden, lr, bias_variance=0.0):
    net, steps = train(setup, hidden, lr, 30)
    growth = [s / natural(net, k) for k, s in enumerate(steps[-1].weight_std)]
    assert max(growth) >= 4 and growth[0] < 10 * growth[-1]  # not first-layer-most
    assert np.mean([s.loss for s in steps[:10]]) > 2 * CHANCE  # the loss rises, not falls
    assert any(layer["dead"] >= 0.75 * layer["units"] for layer in net.probe(probe_images()))


def big_steps_blow_up_the_weights_and_saturate(setup, hidden, lr, bias_variance=0.0):
    net, steps = train(setup, hidden, lr, 10)
    growth = [s / natural(net, k) for k, s in enumerate(steps[-1].weight_std)]
    assert max(growth) >= 4 and growth[0] < 10 * growth[-1]
    assert any(layer["saturated"] >= 0.5 for layer in net.probe(probe_images()))


def big_steps_kill_units(setup, hidden, lr, bias_variance=0.0):
    """Steps of 5% of a layer's weights and more; units that all lived at the start die
    (the engine's run, on its own draws and batches, loses 15 of 40)."""
    assert all(layer["dead"] == 0 for layer in Reference(setup, hidden).probe(probe_images()))
    net, steps = train(setup, hidden, lr, 100)
    assert max(max(s.update[:-1]) for s in steps) >= 0.05
    assert any(layer["dead"] >= layer["units"] / 10 for layer in net.probe(probe_images()))


def the_gradient_explodes_then_saturates(setup, hidden, lr, bias_variance=0.0):
    net, steps = train(setup, hidden, lr, 2, bias_variance=bias_variance)
    first = steps[0]
    assert first.grad_norm[0] > 1e5 and first.grad_norm[0] > 1e3 * first.grad_norm[-1]
    growth = [s / natural(net, k) for k, s in enumerate(steps[-1].weight_std)]
    assert growth[0] >= 100 and growth[0] >= 10 * growth[-1]
    assert net.probe(probe_images())[0]["saturated"] >= 0.99


def small_weights_collapse_the_signal(setup, hidden, lr, bias_variance=0.0):
    the_error_vanishes_on_its_way_back(setup, hidden, lr)
    net = Reference(setup, hidden)
    assert min(layer["spread"] for layer in net.probe(probe_images())) < 0.01


def large_weights_saturate(setup, hidden, lr, bias_variance=0.0):
    net = Reference(setup, hidden)
    layers = net.probe(probe_images())
    assert max(layer["saturated"] for layer in layers) >= 0.5
    assert min(layer["spread"] for layer in layers) > 0.01


def leaky_units_never_die(setup, hidden, lr, bias_variance=0.0):
    net = Reference(setup, hidden)
    _, slopes = net.forward(probe_images())
    assert min(float(s.min()) for s in slopes) == 0.01  # a slope below 0, never 0


# --- the table --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    """A setup of a run, the findings it must and must not get, and the reference's check."""

    name: str
    setup: str
    run: tuple[tuple[str, object], ...]
    must: tuple[D, ...]
    must_not: tuple[D, ...]
    truth: Callable[..., None]
    """Raises unless the float64 reference shows the mechanism the findings claim."""
    first: tuple[D, ...] = field(default=())
    """If given, the first finding is one of these."""

    @property
    def config(self) -> RunConfig:
        return config_of(self.run)

    def check_truth(self) -> None:
        config = self.config
        self.truth(self.setup, config.hidden, config.learning_rate, config.bias_variance)


def runs(**fields) -> tuple[tuple[str, object], ...]:
    """A run's RunConfig fields, hashable (cases that share a run train it once)."""
    return tuple(sorted(fields.items()))


def config_of(run: tuple[tuple[str, object], ...]) -> RunConfig:
    fields = dict(run)
    return RunConfig(setups=parse_setups(str(fields.pop("setups"))), **fields)  # type: ignore[arg-type]


NOTEBOOK_TINY_LR = runs(setups="relu-he,sigmoid-xavier,tanh-xavier", learning_rate=1e-5,
                        iterations=100)  # fmt: skip
EXPLODING_FIRST_STEPS = runs(setups="tanh-var:4", hidden=(100,) * 100, bias_variance=0.05,
                             learning_rate=0.003, iterations=3, eval_every=1)  # fmt: skip
EXPLODING = runs(setups="tanh-var:4", hidden=(100,) * 100, bias_variance=0.05,
                 learning_rate=0.003, iterations=30)  # fmt: skip
HE_DEEP = runs(setups="relu-he,relu-xavier", hidden=(64,) * 30, learning_rate=0.01, iterations=400)
DEEP_SMALL = runs(setups="sigmoid-xavier,relu-gauss", hidden=(64,) * 30, iterations=60)
DLFS = runs(setups="relu-gauss,relu-he", hidden=(100,) * 4, learning_rate=0.01, batch_size=128,
            eval_every=20, iterations=100)  # fmt: skip
NOTEBOOK = runs(setups="sigmoid-gauss,relu-he,sigmoid-gauss:1,tanh-gauss:1", iterations=200)
DEEP_OTHERS = runs(setups="leaky-relu-xavier,tanh-glorot", hidden=(64,) * 20, learning_rate=0.01,
                   iterations=100)  # fmt: skip
CRITICAL_TANH = runs(setups="tanh-var:1", hidden=(100,) * 25, bias_variance=0.05,
                     learning_rate=0.003, iterations=400, eval_every=80)  # fmt: skip
LEARNT = (D.HEALTHY, D.LEARNS, D.PLATEAU)
MECHANISMS = (D.LR_TOO_LARGE, D.EXPLODING, D.LR_TOO_SMALL, D.VANISHING, D.SATURATION,
              D.COLLAPSE, D.DEAD_UNITS)  # fmt: skip

CASES = [
    # item 1: a tiny learning rate, not a vanishing gradient
    *(
        Case(f"tiny-lr-{s}", s, NOTEBOOK_TINY_LR, (D.LR_TOO_SMALL, D.STALLED),
             (D.VANISHING, D.DEAD_UNITS, D.COLLAPSE, D.SATURATION, D.EXPLODING),
             steps_are_tiny_but_the_gradient_is_sound, first=(D.LR_TOO_SMALL,))  # fmt: skip
        for s in ("relu-he", "sigmoid-xavier", "tanh-xavier")
    ),
    # item 2: a large step kills ReLU units; not small weights, not vanishing
    Case("lr-2-relu-he", "relu-he", runs(setups="relu-he", learning_rate=2, iterations=100),
         (D.LR_TOO_LARGE, D.DEAD_UNITS, D.STALLED), (D.COLLAPSE, D.VANISHING, D.EXPLODING),
         big_steps_blow_up_the_weights_and_kill_units, first=(D.LR_TOO_LARGE,)),
    Case("lr-50-sigmoid-xavier", "sigmoid-xavier",
         runs(setups="sigmoid-xavier", learning_rate=50, iterations=50),
         (D.LR_TOO_LARGE, D.SATURATION), (D.EXPLODING, D.VANISHING, D.COLLAPSE),
         big_steps_blow_up_the_weights_and_saturate, first=(D.LR_TOO_LARGE,)),
    Case("lr-0.8-relu-he", "relu-he", runs(setups="relu-he", learning_rate=0.8, iterations=200),
         (D.LEARNS, D.DEAD_UNITS), (D.VANISHING, D.LR_TOO_SMALL, D.STALLED),
         big_steps_kill_units, first=(D.LEARNS,)),
    # item 3: exploding, seen in the first steps or in what it left
    Case("exploding-first-steps", "tanh-var:4", EXPLODING_FIRST_STEPS,
         (D.EXPLODING, D.SATURATION), (D.VANISHING, D.LR_TOO_LARGE),
         the_gradient_explodes_then_saturates, first=(D.EXPLODING,)),
    Case("exploding-before-evaluation", "tanh-var:4", EXPLODING, (D.EXPLODING, D.SATURATION),
         (D.VANISHING, D.LR_TOO_LARGE), the_gradient_explodes_then_saturates,
         first=(D.EXPLODING,)),
    # item 4: deep ReLU, Xavier's signal halving layer by layer; He learns
    Case("he-deep-relu-xavier", "relu-xavier", HE_DEEP, (D.VANISHING, D.STALLED),
         (D.LR_TOO_SMALL, D.EXPLODING, D.LR_TOO_LARGE), the_error_vanishes_on_its_way_back,
         first=(D.VANISHING,)),
    Case("he-deep-relu-he", "relu-he", HE_DEEP, (), (D.VANISHING, D.LR_TOO_SMALL, D.STALLED),
         the_error_reaches_the_first_layer, first=LEARNT),
    # item 5: no circular advice, no pointer to findings that are not there
    Case("deep-sigmoid-xavier", "sigmoid-xavier", DEEP_SMALL, (D.VANISHING, D.STALLED),
         (D.LR_TOO_SMALL, D.EXPLODING), the_error_vanishes_on_its_way_back,
         first=(D.VANISHING,)),
    Case("deep-relu-gauss", "relu-gauss", DEEP_SMALL, (D.VANISHING, D.STALLED),
         (D.LR_TOO_SMALL, D.EXPLODING), the_error_vanishes_on_its_way_back),
    Case("relu-gauss-on-its-plateau", "relu-gauss", runs(setups="relu-gauss", iterations=400),
         (D.VANISHING, D.STALLED), (D.LR_TOO_SMALL, D.DEAD_UNITS, D.COLLAPSE),
         the_error_vanishes_on_its_way_back),
    # item 6: the status column's rule
    Case("critical-tanh-stalled", "tanh-var:1", CRITICAL_TANH, (D.STALLED,),
         (*MECHANISMS, D.SLOW), the_error_reaches_the_first_layer),
    # the notebook's and the book's setups
    Case("notebook-sigmoid-gauss", "sigmoid-gauss", NOTEBOOK,
         (D.VANISHING, D.COLLAPSE, D.STALLED), (D.SATURATION, D.LR_TOO_SMALL, D.DEAD_UNITS),
         small_weights_collapse_the_signal, first=(D.VANISHING,)),
    Case("notebook-relu-he", "relu-he", NOTEBOOK, (D.HEALTHY,), MECHANISMS,
         the_error_reaches_the_first_layer),
    Case("sigmoid-gauss-1", "sigmoid-gauss:1", NOTEBOOK, (D.SATURATION,),
         (D.COLLAPSE, D.LR_TOO_LARGE, D.VANISHING), large_weights_saturate),
    Case("tanh-gauss-1", "tanh-gauss:1", NOTEBOOK, (D.SATURATION,),
         (D.COLLAPSE, D.LR_TOO_LARGE, D.VANISHING), large_weights_saturate),
    Case("dlfs-relu-gauss", "relu-gauss", DLFS, (D.VANISHING, D.STALLED),
         (D.LR_TOO_SMALL, D.DEAD_UNITS), the_error_vanishes_on_its_way_back,
         first=(D.VANISHING,)),
    Case("dlfs-relu-he", "relu-he", DLFS, (), (D.VANISHING, D.LR_TOO_SMALL, D.STALLED),
         the_error_reaches_the_first_layer),
    Case("deep-leaky-relu-xavier", "leaky-relu-xavier", DEEP_OTHERS, (),
         (D.DEAD_UNITS, D.COLLAPSE), leaky_units_never_die),
    Case("deep-tanh-glorot", "tanh-glorot", DEEP_OTHERS, (),
         (D.VANISHING, D.EXPLODING, D.SATURATION, D.LR_TOO_SMALL),
         the_error_reaches_the_first_layer),
]  # fmt: skip


@cache
def findings_of(run: tuple[tuple[str, object], ...]) -> dict[str, list]:
    """The diagnosis of one real run (run once for every case that shares it)."""
    config = config_of(run)
    records: list = []
    trainer = Trainer(config, load_bundled(), np.random.default_rng(config.seed))
    try:
        trainer.run(records.extend)
    finally:
        trainer.close()
    found: dict[str, list] = {name: [] for name in config.setup_names}
    for finding in diagnose(records, config.setup_names):
        found[finding.setup].append(finding)
    return found


def test_the_table_covers_every_case_of_the_issue():
    assert len(CASES) >= 20 and len({c.name for c in CASES}) == len(CASES)
    found = {kind for case in CASES for kind in case.must}
    assert set(MECHANISMS) <= found


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_the_diagnosis_names_the_mechanism_the_reference_shows(case: Case):
    case.check_truth()
    findings = findings_of(case.run)[case.setup]
    kinds = [f.kind for f in findings]
    text = "\n".join(f"{f.kind}: {f.evidence} / {f.meaning} / {f.advice}" for f in findings)
    assert set(case.must) <= set(kinds), text
    assert not set(case.must_not) & set(kinds), text
    if case.first:
        assert kinds[0] in case.first, text
    spec = parse_setup(case.setup)
    for finding in findings:
        assert "other findings" not in finding.meaning + finding.advice
        offered = finding.advice.replace("tanh with Xavier init", "").replace(
            "ReLU with He init", ""
        )
        if spec.init == "he":
            assert "He init" not in offered, text
        if spec.init in ("xavier", "glorot"):
            assert "Xavier init" not in offered, text
    if any(k in LEARNT for k in kinds) or D.SLOW in kinds:
        assert kinds[0] in (*LEARNT, D.SLOW) or D.SLOW in kinds


def deep(width: int, depth: int) -> str:
    return ",".join([str(width)] * depth)


ISSUE_COMMANDS = [
    pytest.param(
        ("--lr", "0.00001", "--setups", "relu-he,sigmoid-xavier"),
        ("relu-he: learning rate too small", "sigmoid-xavier: learning rate too small"),
        ("vanishing", "Xavier init", "He init"),
        id="item-1",
    ),
    pytest.param(
        ("--lr", "2", "--setups", "relu-he"),
        ("relu-he: learning rate too large", "relu-he: dead units", "relu-he: stalled"),
        ("signal collapse", "vanishing", "He init", "weights are too small"),
        id="item-2",
    ),
    pytest.param(
        ("--hidden", deep(100, 100), "--setups", "tanh-var:4", "--bias-var", "0.05",
         "--lr", "0.003", "--iters", "3", "--eval-every", "1"),
        ("tanh-var:4: exploding gradient (from iteration 1 to 2)", "chaotic phase"),
        ("vanishing", "Xavier for tanh"),
        id="item-3",
    ),
    pytest.param(
        ("--hidden", deep(100, 25), "--setups", "tanh-var:1", "--bias-var", "0.05",
         "--lr", "0.003", "--iters", "400", "--eval-every", "80"),
        ("tanh-var:1  stalled", "tanh-var:1: stalled at chance", "it may yet learn"),
        ("still learning", "other findings"),
        id="item-6",
    ),
]  # fmt: skip


@pytest.mark.parametrize(("args", "said", "unsaid"), ISSUE_COMMANDS)
def test_the_issues_commands_print_a_true_diagnosis(args, said, unsaid, run_vgtui, tmp_path):
    """The exact commands of issue 18's items 1, 2, 3 (its first steps) and 6, as a user runs
    them; the reference checks of their cases above establish each finding's truth."""
    completed = run_vgtui("--no-ui", "--seed", "0", *args, "--out", str(tmp_path))
    assert completed.returncode == 0, completed.stderr
    out = completed.stdout
    diagnosis = out[out.index("Diagnosis:") :]
    for text in said:
        assert text in out, out
    for text in unsaid:
        assert text not in diagnosis, out


def trained(setups: str, **fields) -> tuple[list, Trainer]:
    """A run's records and its trainer after the last step (its gradients still in place)."""
    config = RunConfig(setups=parse_setups(setups), **fields)
    records: list = []
    trainer = Trainer(config, load_bundled(), np.random.default_rng(config.seed))
    trainer.run(records.extend)
    return records, trainer


def test_tiny_gradient_norms_survive_and_are_said_to_be_below_float32s_range():
    """Issue 18, item 7: 30 ReLU layers of N(0, 0.01^2) weights. The float32 gradients hold
    non-zero entries in every layer, but their squares underflowed: 24 of 31 norms read 0.
    Each norm is now the float64 norm of the same entries, and so is the error's std; the
    float64 reference (10 steps of its own) gives the same magnitudes, about 1e-40 in the
    first layer; the diagnosis says "below 1e-38" instead of a false 0."""
    records, trainer = trained("relu-gauss:0.01", hidden=(64,) * 30, iterations=10)
    try:
        last = records[-1]
        for layer, norm in enumerate(last.grad_norms):
            entries = trainer.bank.weight_grad(0, layer)
            assert np.count_nonzero(entries) > 0
            assert norm == pytest.approx(np.linalg.norm(entries.astype(np.float64)), rel=1e-6)
            assert norm > 0 and last.layers[layer].delta_std > 0
    finally:
        trainer.close()
    assert sum(norm < 1.2e-38 for norm in last.grad_norms) >= 15
    _, steps = train("relu-gauss:0.01", (64,) * 30, 0.1, 10)
    truth = steps[-1].grad_norm
    assert truth[0] < 1e-38 and truth[-1] > 1e-6
    for norm, true in zip(last.grad_norms, truth, strict=True):
        assert abs(math.log10(norm / true)) < 2  # the magnitude float64 gives, not 0
    (vanishing, *_) = diagnose(records, ["relu-gauss:0.01"])
    assert vanishing.kind == D.VANISHING and "below 1e-38" in vanishing.evidence


def test_norms_in_float32s_normal_range_are_as_before_to_the_bit():
    """The float64 pass is taken only where the float32 squares underflow: seed-0 numbers of
    ordinary runs stay identical."""
    records, trainer = trained("relu-he,sigmoid-xavier", iterations=10)
    try:
        for s, record in enumerate(records[-2:]):
            before = tuple(
                float(np.linalg.norm(trainer.bank.weight_grad(s, layer)))
                for layer in range(len(record.grad_norms))
            )
            assert record.grad_norms == before
    finally:
        trainer.close()
