"""Inference on labelled images: how many each setup of a parameter snapshot gets right.

Laid out units by samples: a hidden layer is a (setups, units, images) array, so each
activation sweeps contiguous memory and the reductions over classes run along the long axis
(NumPy does both several times faster than on a (setups, images, units) layout). Blocks leave
out the pixels none of their images uses (exact: those products are zero).

Everything here is plain data plus one :class:`InferenceBank` per network shape, so helper
processes can rebuild it from shared memory (see :mod:`vgtui.core.evaluation.helpers`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from vgtui.core.activation_stats import ProbeLayout, ProbeTally
from vgtui.core.activations import get_activation

Forward = Callable[[np.ndarray, np.ndarray, np.ndarray], object]


@dataclass(frozen=True)
class InferenceParameters:
    """A copy of a bank's parameters for inference only (see :func:`inference_snapshot`):
    ``first_layer`` (inputs + 1, setups * hidden[0]) with the bias as its last row,
    ``weights_t[l]`` of shape (setups, n_out, n_in) and ``biases_col[l]`` of shape
    (setups, n_out, 1) for layers 2..L (index 0 unused), setups in slot order. Sigmoid layers
    run as tanh, except in +res setups. ``layer_sizes``, ``slot_activations`` and
    ``slot_residual`` say which network this is."""

    layer_sizes: tuple[int, ...]
    slot_activations: tuple[str, ...]
    first_layer: np.ndarray
    weights_t: tuple[np.ndarray, ...]
    biases_col: tuple[np.ndarray, ...]
    slot_residual: tuple[bool, ...] = ()
    """Per slot: a +res setup (a shortcut around each hidden layer whose widths match, not
    the first); empty: none."""

    @property
    def arrays(self) -> tuple[np.ndarray, ...]:
        """Every array, in layout order (see :func:`parameter_shapes`)."""
        deeper = zip(self.weights_t[1:], self.biases_col[1:], strict=True)
        return (self.first_layer, *(array for pair in deeper for array in pair))


def activation_runs(slot_activations: Sequence[object]) -> list[tuple[Any, slice]]:
    """Runs of consecutive slots with the same activation: one call per run and layer."""
    runs, start = [], 0
    for slot in range(1, len(slot_activations) + 1):
        if slot == len(slot_activations) or slot_activations[slot] != slot_activations[start]:
            runs.append((slot_activations[start], slice(start, slot)))
            start = slot
    return runs


def residual_layers(layer_sizes: Sequence[int]) -> list[bool]:
    """Per hidden layer (0: the first): whether a +res setup has a shortcut around it (its
    input and output widths match; never the first, whose input is the image)."""
    return [
        hidden > 0 and layer_sizes[hidden] == layer_sizes[hidden + 1]
        for hidden in range(len(layer_sizes) - 2)
    ]


def inference_snapshot(
    layer_sizes: Sequence[int],
    slot_activations: Sequence[str],
    first_layer: np.ndarray,
    weights: Sequence[np.ndarray],
    biases: Sequence[np.ndarray],
    slot_residual: Sequence[bool] = (),
) -> InferenceParameters:
    """A copy of a bank's parameters (``first_layer`` (inputs + 1, setups * hidden[0]),
    ``weights[l]`` (setups, n_in, n_out), ``biases[l]`` (setups, n_out) for l >= 1) in which
    sigmoid layers run as a bare tanh: sigmoid(u) = (1 + tanh(u / 2)) / 2, so the halving of
    u moves into the weights feeding the layer and the affine map of tanh into the layer after
    it. Same function, one element-wise pass instead of four. (Not in +res setups: the
    shortcut adds the sigmoid itself.)"""
    width, last = layer_sizes[1], len(layer_sizes) - 2
    first_layer = first_layer.copy()
    weights = [w.copy() for w in weights]
    biases = [b.copy() for b in biases]
    residual = tuple(slot_residual) or (False,) * len(slot_activations)
    kinds = list(zip(slot_activations, residual, strict=True))
    for (name, shortcut), slots in activation_runs(kinds):
        if name != "sigmoid" or shortcut:
            continue
        first_layer[:, slots.start * width : slots.stop * width] *= 0.5
        for layer in range(1, last + 1):
            w, b = weights[layer][slots], biases[layer][slots]
            # Input side: (1 + t) / 2 @ W + b == t @ (W / 2) + (b + column sums of W / 2).
            b += 0.5 * w.sum(axis=1)
            w *= 0.5
            if layer < last:  # output side: this layer's pre-activation, halved
                w *= 0.5
                b *= 0.5
    unused = np.empty((0, 0, 0), dtype=first_layer.dtype)
    return InferenceParameters(
        tuple(int(n) for n in layer_sizes),
        tuple(slot_activations),
        first_layer,
        (unused, *(np.ascontiguousarray(w.transpose(0, 2, 1)) for w in weights[1:])),
        (unused, *(b[:, :, None].copy() for b in biases[1:])),
        tuple(slot_residual),
    )


def parameter_shapes(layer_sizes: Sequence[int], setups: int) -> list[tuple[int, ...]]:
    """Shapes of :attr:`InferenceParameters.arrays` for a network shape."""
    shapes: list[tuple[int, ...]] = [(layer_sizes[0] + 1, setups * layer_sizes[1])]
    for fan_in, fan_out in zip(layer_sizes[1:], layer_sizes[2:], strict=False):
        shapes += [(setups, fan_out, fan_in), (setups, fan_out, 1)]
    return shapes


def parameters_over(
    flat: np.ndarray,
    layer_sizes: Sequence[int],
    slot_activations: Sequence[str],
    slot_residual: Sequence[bool] = (),
) -> InferenceParameters:
    """:class:`InferenceParameters` as views of one flat array (e.g. in shared memory)."""
    views, offset = [], 0
    for shape in parameter_shapes(layer_sizes, len(slot_activations)):
        size = math.prod(shape)
        views.append(flat[offset : offset + size].reshape(shape))
        offset += size
    unused = np.empty((0, 0, 0), dtype=flat.dtype)
    return InferenceParameters(
        tuple(layer_sizes),
        tuple(slot_activations),
        views[0],
        (unused, *views[1::2]),
        (unused, *views[2::2]),
        tuple(slot_residual),
    )


@dataclass(frozen=True)
class InferenceBlock:
    """Labelled images for inference, pixels by images: ``inputs`` (used pixels + 1, rows) in
    float32 with a last row of ones, ``layer_rows`` the matching rows of the first layer (the
    last one its bias row); the pixels left out must be zero in every image.

    Pixels only a few of the images use may go to a second, smaller product instead:
    ``rare_inputs`` (rare pixels, last images) holds them for the last images of the block
    (the only ones that use them), ``rare_layer_rows`` their rows of the first layer."""

    inputs: np.ndarray
    layer_rows: np.ndarray
    labels: np.ndarray  # (rows,) true classes
    rare_inputs: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), np.float32))
    rare_layer_rows: np.ndarray = field(default_factory=lambda: np.zeros(0, np.intp))
    probe_rows: tuple[int, int] = (0, 0)
    """The block's rows (start, stop) that belong to the probe (see vgtui.core.eval_blocks)..."""
    probe_at: int = 0
    """... and where they start among the probe's images."""
    label_index: np.ndarray = field(init=False)  # labels * rows + image: flat true-logit spots

    def __post_init__(self) -> None:
        rows = self.inputs.shape[1]
        index = self.labels.astype(np.intp) * rows + np.arange(rows)
        object.__setattr__(self, "label_index", index)

    @property
    def rows(self) -> int:
        return int(self.inputs.shape[1])

    @property
    def probe_size(self) -> int:
        return self.probe_rows[1] - self.probe_rows[0]

    @property
    def cost(self) -> int:
        """Multiply-adds per first-layer unit."""
        return int(self.inputs.size + self.rare_inputs.size)


@dataclass
class InferenceBuffers:
    """Work arrays for one block size."""

    gathered: np.ndarray  # (inputs + 1, setups * hidden[0]): rows of the first layer
    gathered_rare: np.ndarray  # the same, for the rare pixels
    rare_pre: np.ndarray  # (setups * hidden[0], rows): the rare pixels' share
    pre: list[np.ndarray]  # (setups, n, rows) pre-activations of layers 1..L (one per width)
    post: list[np.ndarray]  # (setups, n, rows) activations of the hidden layers (two per width)
    probe_rows: np.ndarray  # (setups, hidden units, rows): a block's probe rows, all layers
    steps: list[list[tuple[Forward, np.ndarray, np.ndarray, np.ndarray]]]  # per hidden layer
    row_max: np.ndarray  # (setups, rows) largest logit per image
    is_max: np.ndarray  # (setups, classes, rows) bool: logit equals the largest
    true_logit: np.ndarray  # (setups, rows)


@dataclass
class ProbeTarget:
    """Where an evaluation puts its probe rows' activations: a ``buffer`` (slots, hidden
    units, probe images) float32, tallied once when the evaluation is complete (fast: one
    tally), or, when such a buffer would be large (see :func:`probe_buffer_fits`), the
    running ``tallies`` (slots, probe_width) of each block's rows (``scratch``: room for one
    block's)."""

    buffer: np.ndarray | None = None
    tallies: np.ndarray | None = None
    scratch: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))


PROBE_BUFFER_BYTES = 4 * 2**20


def probe_buffer_fits(layer_sizes: Sequence[int], setups: int, probe_size: int) -> bool:
    """Whether an evaluation's probe activations fit a buffer of PROBE_BUFFER_BYTES (the
    default network's take 1 MB; a deep, wide one is tallied block by block instead)."""
    return 4 * setups * sum(layer_sizes[1:-1]) * probe_size <= PROBE_BUFFER_BYTES


def new_probe_target(
    layer_sizes: Sequence[int], setups: int, probe_size: int
) -> ProbeTarget | None:
    """Room for one evaluation's probe activations (None without a probe)."""
    if probe_size <= 0:
        return None
    if probe_buffer_fits(layer_sizes, setups, probe_size):
        units = sum(layer_sizes[1:-1])
        return ProbeTarget(buffer=np.zeros((setups, units, probe_size), np.float32))
    width = ProbeLayout.of(layer_sizes).width
    return ProbeTarget(tallies=np.zeros((setups, width)), scratch=np.zeros((setups, width)))


class InferenceBank:
    """Forward passes of a bank of same-shaped MLPs (one per slot) for inference only. Its
    work arrays are its own: one per thread (each helper process builds its own)."""

    def __init__(
        self,
        layer_sizes: Sequence[int],
        slot_activations: Sequence[str],
        slot_residual: Sequence[bool] = (),
        dtype: type = np.float32,
    ) -> None:
        self.layer_sizes = tuple(int(n) for n in layer_sizes)
        self.slot_activations = tuple(slot_activations)
        self.slot_residual = tuple(slot_residual)
        self.dtype = np.dtype(dtype)
        self.groups = activation_runs(self.slot_activations)
        residual = self.slot_residual or (False,) * len(self.slot_activations)
        self._forward_runs = activation_runs(
            list(zip(self.slot_activations, residual, strict=True))
        )
        self._shortcut_runs = [run for (_, res), run in self._forward_runs if res]
        self._shortcuts = residual_layers(self.layer_sizes) if self._shortcut_runs else []
        self._buffers: dict[int, InferenceBuffers] = {}
        self._probe_tally: ProbeTally | None = None
        spans, first = [], 0
        for units in self.layer_sizes[1:-1]:
            spans.append((first, units))
            first += units
        self.hidden_spans: tuple[tuple[int, int], ...] = tuple(spans)
        """Each hidden layer's (first unit, units) in a probe buffer."""

    def probe_tally(self) -> ProbeTally:
        if self._probe_tally is None:
            self._probe_tally = ProbeTally(self.layer_sizes, self.groups)
        return self._probe_tally

    def tally_buffer(self, buffer: np.ndarray, out: np.ndarray) -> None:
        """Tally a filled probe buffer (slots, hidden units, probe images) into ``out``."""
        hidden = [buffer[:, first : first + units, :] for first, units in self.hidden_spans]
        self.probe_tally()(hidden, out)

    def probe_result(self, target: ProbeTarget | None) -> np.ndarray | None:
        """The tallies (slots, probe_width) of a complete evaluation's probe."""
        if target is None:
            return None
        if target.buffer is not None:
            out = np.zeros((self.num_setups, self.probe_width))
            self.tally_buffer(target.buffer, out)
            return out
        return target.tallies

    @property
    def probe_width(self) -> int:
        """Numbers per setup in a probe block's tallies (see vgtui.core.activation_stats)."""
        return ProbeLayout.of(self.layer_sizes).width

    @property
    def num_setups(self) -> int:
        return len(self.slot_activations)

    def buffers(self, rows: int) -> InferenceBuffers:
        """The work arrays for blocks of ``rows`` images (allocated on first use)."""
        buffers = self._buffers.get(rows)
        if buffers is not None:
            return buffers
        count, dtype = self.num_setups, self.dtype
        # a layer's pre-activations are dead once its activation has run: layers of one width
        # share one array, which stays in cache (a deep net's own arrays would stream through
        # memory: 50 layers of 100 for 9 setups, 88 MB a block)
        shared = {n: np.empty((count, n, rows), dtype=dtype) for n in set(self.layer_sizes[1:])}
        pre = [shared[n] for n in self.layer_sizes[1:]]
        # so are a hidden layer's activations once the next layer's pre-activations and the
        # shortcut after it are computed: two arrays per width, in turns
        widths = set(self.layer_sizes[1:-1])
        pairs = {n: [np.empty((count, n, rows), dtype=dtype) for _ in "ab"] for n in widths}
        post = [pairs[n][h % 2] for h, n in enumerate(self.layer_sizes[1:-1])]
        zeros = np.zeros(max(p.size for p in post), dtype=dtype)
        steps = []
        for layer in range(len(post)):
            layer_steps = []
            for (name, res), slots in self._forward_runs:
                u, out = pre[layer][slots], post[layer][slots]
                forward = _forward(name, folded=not res)
                layer_steps.append((forward, u, out, zeros[: u.size].reshape(u.shape)))
            steps.append(layer_steps)
        first = (self.layer_sizes[0] + 1, count * self.layer_sizes[1])
        buffers = InferenceBuffers(
            gathered=np.empty(first, dtype=dtype),
            gathered_rare=np.empty(first, dtype=dtype),
            rare_pre=np.empty((first[1], rows), dtype=dtype),
            pre=pre,
            post=post,
            probe_rows=np.empty((count, sum(self.layer_sizes[1:-1]), 0), dtype=dtype),
            steps=steps,
            row_max=np.empty((count, rows), dtype=dtype),
            is_max=np.empty((count, self.layer_sizes[-1], rows), dtype=bool),
            true_logit=np.empty((count, rows), dtype=dtype),
        )
        self._buffers[rows] = buffers
        return buffers

    def logits(
        self,
        block: InferenceBlock,
        params: InferenceParameters,
        probe_rows: np.ndarray | None = None,
    ) -> np.ndarray:
        """Logits per slot of the images of ``block``, shape (setups, classes, rows) (a work
        array: valid until the next call). With ``probe_rows`` (setups, hidden units, probe
        rows of the block), the hidden activations of the block's probe rows go there, as the
        activation gives them (see :meth:`_activation_only`)."""
        buffers = self.buffers(block.rows)
        layer = buffers.gathered[: block.layer_rows.size]
        np.take(params.first_layer, block.layer_rows, axis=0, out=layer)
        first = buffers.pre[0].reshape(-1, block.rows)
        np.matmul(layer.T, block.inputs, out=first)
        if block.rare_layer_rows.size:
            rare_rows = block.rare_inputs.shape[1]
            rare_layer = buffers.gathered_rare[: block.rare_layer_rows.size]
            np.take(params.first_layer, block.rare_layer_rows, axis=0, out=rare_layer)
            rare = buffers.rare_pre[:, :rare_rows]
            np.matmul(rare_layer.T, block.rare_inputs, out=rare)
            first[:, block.rows - rare_rows :] += rare
        for hidden, layer_steps in enumerate(buffers.steps):
            for forward, u, out, zeros in layer_steps:
                forward(u, out, zeros)
            if self._shortcuts and self._shortcuts[hidden]:
                for run in self._shortcut_runs:
                    buffers.post[hidden][run] += buffers.post[hidden - 1][run]
            if probe_rows is not None:
                first, units = self.hidden_spans[hidden]
                start, stop = block.probe_rows
                rows = probe_rows[:, first : first + units]
                np.copyto(rows, buffers.post[hidden][:, :, start:stop])
                self._activation_only(rows, hidden, buffers, start, stop)
            pre = buffers.pre[hidden + 1]
            np.matmul(params.weights_t[hidden + 1], buffers.post[hidden], out=pre)
            pre += params.biases_col[hidden + 1]
        return buffers.pre[-1]

    def count_correct(
        self,
        block: InferenceBlock,
        params: InferenceParameters,
        probe: ProbeTarget | None = None,
    ) -> np.ndarray:
        """Images of ``block`` each slot classifies correctly (the first largest logit, as
        ``argmax`` picks it). The hidden activations of the block's probe rows go to
        ``probe``, if given: copied into its buffer, or tallied into its tallies."""
        buffers = self.buffers(block.rows)
        rows = None
        if probe is not None and block.probe_size:
            if probe.buffer is not None:
                rows = probe.buffer[:, :, block.probe_at : block.probe_at + block.probe_size]
            else:
                if buffers.probe_rows.shape[2] < block.probe_size:
                    shape = (*buffers.probe_rows.shape[:2], block.probe_size)
                    buffers.probe_rows = np.empty(shape, dtype=self.dtype)
                rows = buffers.probe_rows[:, :, : block.probe_size]
        logits = self.logits(block, params, rows)
        if rows is not None and probe is not None and probe.tallies is not None:
            hidden = [rows[:, first : first + units] for first, units in self.hidden_spans]
            self.probe_tally()(hidden, probe.scratch, first=block.probe_at)
            probe.tallies += probe.scratch
        row_max, is_max = buffers.row_max, buffers.is_max
        np.max(logits, axis=1, out=row_max)
        np.equal(logits, row_max[:, None, :], out=is_max)
        if np.count_nonzero(is_max) != row_max.size:  # a tie (or NaN): let argmax decide
            return np.count_nonzero(logits.argmax(axis=1) == block.labels, axis=1)
        true_logit = buffers.true_logit
        np.take(logits.reshape(logits.shape[0], -1), block.label_index, axis=1, out=true_logit)
        return np.count_nonzero(true_logit == row_max, axis=1)

    def _activation_only(
        self, out: np.ndarray, hidden: int, buffers: InferenceBuffers, start: int, stop: int
    ) -> None:
        """The probe measures what the activation gives: in a +res setup's layer with a
        shortcut, ``out`` (that layer's rows start:stop) less the shortcut's input."""
        if not (self._shortcuts and self._shortcuts[hidden]):
            return
        for run in self._shortcut_runs:
            out[run] -= buffers.post[hidden - 1][run, :, start:stop]


def _forward(name: str, folded: bool = True) -> Forward:
    """``forward(u, out, zeros)`` of a hidden layer in an inference snapshot: sigmoid layers
    run as tanh (``folded``); ReLU takes the maximum with an array of zeros, which NumPy
    vectorises (with a scalar 0 it is several times slower)."""
    if name == "sigmoid" and folded:
        return lambda u, out, zeros: np.tanh(u, out=out)
    if name == "relu":
        return lambda u, out, zeros: np.maximum(u, zeros, out=out)
    forward = get_activation(name).forward
    return lambda u, out, zeros: forward(u, out)
