"""Test-set evaluation behind one small interface.

``evaluator.start(snapshot)`` begins counting how many test images each setup of a parameter
snapshot classifies correctly and returns a :class:`Pending`; the caller may lend a hand block
by block (``help_one``), ask whether it is ``finished``, and finally take the ``counts()``.

Two implementations: :mod:`vgtui.core.evaluation.local` does the work on the calling thread
(the readable one, and the fallback); :mod:`vgtui.core.evaluation.helpers` shares it with helper
processes, one per further core. :func:`make_evaluator` chooses.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Protocol

import numpy as np

from vgtui.core.evaluation.local import LocalEvaluator
from vgtui.core.inference import InferenceBlock, InferenceParameters

MAX_LANES = 4
"""The trainer's thread plus helper processes sharing an evaluation, at most one per core."""


class Pending(Protocol):
    """One snapshot's evaluation under way."""

    @property
    def finished(self) -> bool:
        """Every block counted (``counts()`` will not wait)."""
        ...

    def help_one(self) -> bool:
        """Count one more block on the calling thread; False when none is left to take."""
        ...

    def counts(self) -> np.ndarray:
        """Correct predictions per slot over the whole test set: counts what is left on the
        calling thread, waits for the rest, and frees what the evaluation held. Later calls
        return the same counts at once."""
        ...

    def probe_sums(self) -> np.ndarray | None:
        """The probe's activation tallies per slot, summed over its blocks (slots,
        probe_width; see vgtui.core.activation_stats), once :meth:`counts` has returned;
        None when the test blocks hold no probe."""
        ...


class Evaluator(Protocol):
    """Starts evaluations of parameter snapshots of one network shape on one test set."""

    def start(self, snapshot: InferenceParameters) -> Pending: ...

    def close(self) -> None:
        """Free helpers and shared memory; no evaluation may start afterwards."""
        ...


def available_cores() -> int:
    """CPU cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def evaluation_lanes(cores: int | None = None) -> int:
    """Lanes an evaluation is shared by, at most: one per core (of ``cores``, by default
    those this process may run on), up to :data:`MAX_LANES`."""
    return min(MAX_LANES, available_cores() if cores is None else cores)


def make_evaluator(blocks: Sequence[InferenceBlock], cores: int | None = None) -> Evaluator:
    """Helper processes for every core but the trainer's (:func:`evaluation_lanes` lanes in
    all) where the platform allows them, else evaluation on the trainer's thread."""
    lanes = evaluation_lanes(cores)
    if lanes > 1:
        try:
            from vgtui.core.evaluation.helpers import HelperEvaluator, helpers_supported
        except ImportError:  # the helper module is optional
            pass
        else:
            if helpers_supported():
                return HelperEvaluator(blocks, helpers=lanes - 1)
    return LocalEvaluator(blocks)
