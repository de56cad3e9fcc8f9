"""Why a setup fails, in plain words: a pure function from a run's records to findings, each
with its evidence, when it held, what it means and what to try.

Read from the whole history of what every record holds (accuracies, loss, each layer's
gradient, error signal, weights and update ratio) and, where the run measured them, the
hidden layers' activations on the probe images (collapse, saturation, dead units). Each
finding names the mechanism the evidence tells apart (evidence.py), cause first (rules.py),
in words that fit the setup (wording.py).
"""

from vgtui.core.diagnosis.evidence import (
    CHANCE_ACCURACY,
    CHANCE_LOSS,
    LEARNED,
    STREAK,
    is_stalled,
    setup_state,
)
from vgtui.core.diagnosis.findings import Finding, describe
from vgtui.core.diagnosis.rules import diagnose, diagnose_setup

__all__ = [
    "CHANCE_ACCURACY",
    "CHANCE_LOSS",
    "LEARNED",
    "STREAK",
    "Finding",
    "describe",
    "diagnose",
    "diagnose_setup",
    "is_stalled",
    "setup_state",
]
