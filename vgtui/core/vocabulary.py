"""The closed vocabularies of vgtui: the activations and inits a setup names, and every status a
setup, a run or the monitor can be in.

One enum per status concept, each member a plain string (so it goes into JSON and CSV unchanged and
compares equal to the text read back from a run folder).
"""

from __future__ import annotations

from enum import Enum


class Name(str, Enum):
    """A member of a closed vocabulary that reads and formats as its text."""

    def __str__(self) -> str:
        return self.value

    def __format__(self, spec: str) -> str:
        return format(self.value, spec)


class SetupStatus(Name):
    """How one setup stands: training normally, diverged (frozen), or nothing recorded yet."""

    OK = "ok"
    DIVERGED = "diverged"
    NO_DATA = "no data"


class SetupState(Name):
    """How one setup is shown (the strip, the summary table, summary.json's "state"): its
    status, with a setup still at chance after a few evaluations called stalled."""

    OK = SetupStatus.OK.value
    STALLED = "stalled"
    DIVERGED = SetupStatus.DIVERGED.value
    NO_DATA = SetupStatus.NO_DATA.value


class RunStatus(Name):
    """How a run ended: all iterations done, stopped by the user (x), interrupted (Ctrl-C, a
    signal, quitting mid-run, a closed pipe), or failed with an error."""

    DONE = "done"
    STOPPED = "stopped"
    INTERRUPTED = "interrupted"
    FAILED = "failed"
    DIED = "died"
    """Only ever read, never written: a run folder whose writer ended without a summary."""


class RunPhase(Name):
    """Where the monitor's current run is before it ends (then it shows a :class:`RunStatus`)."""

    READY = "ready"
    PREPARING = "preparing"
    """The network is being built (the monitor does it off its UI thread)."""
    RUNNING = "running"
    PAUSED = "paused"
    STOPPING = "stopping"


ACTIVE_PHASES = (RunPhase.RUNNING, RunPhase.PAUSED, RunPhase.STOPPING)


class Diagnosis(Name):
    """What the diagnosis can find in a setup's records (vgtui.core.diagnosis)."""

    DIVERGED = "diverged"
    LR_TOO_LARGE = "learning rate too large"
    EXPLODING = "exploding gradient"
    LR_TOO_SMALL = "learning rate too small"
    VANISHING = "vanishing gradient"
    SATURATION = "saturation"
    COLLAPSE = "signal collapse"
    DEAD_UNITS = "dead units"
    STALLED = "stalled at chance"
    SLOW = "still learning"
    PLATEAU = "plateau, then learning"
    LEARNS = "learns"
    """It learns, with problems found beside it."""
    HEALTHY = "healthy"
    """It learns and nothing is wrong."""


# -- the words of a setup (ACTIVATION-INIT[:PARAM]) ------------------------------------------

ACTIVATION_NAMES: tuple[str, ...] = (
    "sigmoid",
    "tanh",
    "relu",
    "leaky-relu",
    "elu",
    "softsign",
    "silu",
)
INIT_NAMES: tuple[str, ...] = (
    "gauss",
    "xavier",
    "he",
    "var",
    "lecun",
    "uniform",
    "glorot",
    "orthogonal",
)
PARAMETER_NAMES = {"gauss": "SIGMA", "var": "SIGMA_W^2"}
"""Inits with a parameter: gauss:SIGMA, N(0, SIGMA^2); var:SIGMA_W^2, N(0, SIGMA_W^2 / n_in)."""
DEFAULT_GAUSS_SIGMA = 0.01
PARAMETER_REQUIRED = ("var",)
"""Inits that cannot go without their parameter (gauss defaults to DEFAULT_GAUSS_SIGMA)."""


def init_forms() -> tuple[str, ...]:
    """Every init as a setup writes it: ``gauss[:SIGMA]``, ``xavier``, ``var:SIGMA_W^2``, ..."""
    return tuple(
        name
        if name not in PARAMETER_NAMES
        else f"{name}:{PARAMETER_NAMES[name]}"
        if name in PARAMETER_REQUIRED
        else f"{name}[:{PARAMETER_NAMES[name]}]"
        for name in INIT_NAMES
    )


ACTIVATION_ALIASES = {
    "leaky_relu": "leaky-relu",
    "leakyrelu": "leaky-relu",
    "lrelu": "leaky-relu",
    "swish": "silu",
}


# -- the remedies a setup may add: ACTIVATION-INIT[:PARAM][+bn][+res][@OPTIMIZER[:LR]] --------

MODIFIER_NAMES: tuple[str, ...] = ("bn", "res")
"""``+bn``: batch normalization before each hidden activation; ``+res``: an identity shortcut
around each hidden layer whose input and output widths match (written in this order)."""
MODIFIER_HELP = {
    "bn": "batch normalization before each hidden activation",
    "res": "an identity shortcut around each hidden layer whose input and output widths match; "
    "none around the first, whose input is the image, nor where the widths differ",
}
OPTIMIZER_NAMES: tuple[str, ...] = ("sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam")
DEFAULT_OPTIMIZER = "sgd"
USUAL_LEARNING_RATES = {
    "sgd": 0.01,
    "momentum": 0.01,
    "nesterov": 0.01,
    "adagrad": 0.01,
    "rmsprop": 0.01,
    "adam": 0.001,
}
"""DLFS common/optimizer.py's defaults, for help texts and presets: a setup without ``:LR``
trains at the run's learning rate (--lr), whatever its optimizer."""


def setup_grammar() -> str:
    """How a setup is written, for help texts."""
    return "ACTIVATION-INIT[:PARAM][+bn][+res][@OPTIMIZER[:LR]]"


def remedies_help() -> str:
    """What a setup may add to ACTIVATION-INIT, for --help and the app's help."""
    modifiers = " and ".join(f"+{name} ({MODIFIER_HELP[name]})" for name in MODIFIER_NAMES)
    return (
        f"A setup may add {modifiers}. @OPTIMIZER[:LR] trains it by "
        f"{', '.join(OPTIMIZER_NAMES)} at LR (default: the run's --lr; the usual rates: "
        f"{optimizer_forms()}), e.g. sigmoid-gauss+bn, sigmoid-xavier+res, relu-he@adam:0.001."
    )


def optimizer_forms() -> str:
    """Every optimizer with its usual learning rate, for help texts: ``adam (0.001)``."""
    return ", ".join(f"{name} ({USUAL_LEARNING_RATES[name]:g})" for name in OPTIMIZER_NAMES)
