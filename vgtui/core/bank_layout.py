"""The bank's layout (see :mod:`vgtui.core.bank`): the slots of setups grouped by activation,
views of the flat parameter array, and the work arrays of one batch size."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from vgtui.core.activations import Activation, get_activation
from vgtui.core.setups import SetupSpec


@dataclass(frozen=True)
class ActivationGroup:
    """Consecutive slots that share one activation, and their layer-1 columns."""

    activation: Activation
    slots: slice
    cols: slice


@dataclass(frozen=True)
class Parameters:
    """Views of one flat parameter array: the layer-1 matrix with its bias row below it, and
    the stacked weights and biases of layers 2..L (index 0 unused)."""

    flat: np.ndarray
    first_layer: np.ndarray  # (inputs + 1, setups * hidden[0])
    weights: list[np.ndarray]  # [_, (setups, n_in, n_out), ...]
    biases: list[np.ndarray]  # [_, (setups, n_out), ...]
    gammas: list[np.ndarray]  # [(setups, n) per hidden layer]: batch norm's scale (if any +bn)
    betas: list[np.ndarray]  # [(setups, n) per hidden layer]: and its shift


@dataclass
class TrainingBuffers:
    """Work arrays for one batch size, reused step after step."""

    first_pre: np.ndarray  # (rows, setups * hidden[0]) pre-activation of layer 1, then its delta
    first_post: np.ndarray  # (rows, setups * hidden[0]) activation of layer 1
    first_post_stacked: np.ndarray  # (setups, rows, hidden[0]) view of first_post
    first_delta_stacked: np.ndarray  # (setups, rows, hidden[0]) view of first_pre
    pre: list[np.ndarray]  # (setups, rows, n) pre-activations of layers 2..L
    post: list[np.ndarray]  # (setups, rows, n) activations of hidden layers 2..L-1
    back: list[np.ndarray]  # (setups, rows, n_in) delta @ W.T of layers 2..L
    row_max: np.ndarray  # (setups, rows, 1) softmax scratch
    row_sum: np.ndarray  # (setups, rows, 1) softmax scratch
    ones_rows: np.ndarray  # (1, rows) of ones: column sums as a product
    ones_classes: np.ndarray  # (classes, 1) of ones: row sums as a product
    active_inputs: np.ndarray  # (rows, inputs + 1) room for inputs without their zero columns
    active_layer: np.ndarray  # (inputs + 1, setups * hidden[0]) matching rows of first_layer
    active_grad: np.ndarray  # (inputs + 1, setups * hidden[0]) their gradient
    normalized: list[np.ndarray]  # batch norm's x per hidden layer, shaped as first_pre, pre[l]
    batch_var: dict[tuple[int, int], np.ndarray]  # (hidden layer, bn run): the batch variance


def slots(
    activations: Sequence[Activation], width: int, setups: Sequence[SetupSpec]
) -> tuple[np.ndarray, tuple[ActivationGroup, ...]]:
    """The setups in slot order (grouped by activation, in order of first appearance; within
    an activation, the +bn setups after the others, the +res ones after those without, then
    by optimizer and rate, so each runs over few blocks of slots) and the groups of slots that
    share an activation."""
    names = list(dict.fromkeys(a.name for a in activations))
    trainings = list(dict.fromkeys((s.optimizer, s.learning_rate) for s in setups))

    def key(s: int) -> tuple[int, bool, bool, int]:
        spec = setups[s]
        training = trainings.index((spec.optimizer, spec.learning_rate))
        return names.index(activations[s].name), spec.batch_norm, spec.residual, training

    order = sorted(range(len(activations)), key=key)
    groups, start = [], 0
    for name in names:
        stop = start + sum(a.name == name for a in activations)
        group = ActivationGroup(
            get_activation(name), slice(start, stop), slice(start * width, stop * width)
        )
        groups.append(group)
        start = stop
    return np.array(order, dtype=np.intp), tuple(groups)


def runs(mask: Sequence[bool], within: slice = slice(None)) -> list[slice]:
    """The maximal runs of consecutive True slots of ``mask`` (within a slice of slots)."""
    start, stop, _ = within.indices(len(mask))
    runs, begin = [], None
    for slot in range(start, stop + 1):
        if slot < stop and mask[slot]:
            begin = slot if begin is None else begin
        elif begin is not None:
            runs.append(slice(begin, slot))
            begin = None
    return runs


def stacked(matrix: np.ndarray, count: int, width: int) -> np.ndarray:
    """A (rows, count * width) matrix as a (count, rows, width) view."""
    return matrix.reshape(matrix.shape[0], count, width).transpose(1, 0, 2)
