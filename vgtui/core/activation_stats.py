"""What the hidden layers' activations look like on the probe images, at every evaluation point.

The probe is a fixed subset of the test images, chosen by the seed (see
:func:`vgtui.core.eval_blocks.dataset_blocks`); its blocks are evaluated like the others, and
while their activations are at hand the evaluation also tallies, per setup and hidden layer:

    images        the block's images (once per setup, first)
    histogram     BINS counts on the activation's scale (vgtui.core.histogram: the probe
                  experiment bins by it too), of every HISTOGRAM_STRIDE-th image (a quarter
                  of the cost; 250 images of the default probe give each bin of a 40-unit
                  layer 10,000 values to share)
    saturated     count of |a| beyond SATURATION of the range (bounded activations), of the
                  histogram's images (ReLU-like: 0; their inactive share is histogram bin 0)
    unit sums     sum over the probe of each unit's activation            (units,)
    unit squares  sum of squares                                          (units,)
    unit alive    1 if the unit's activation is > 0 for some image, else 0  (units,)

Tallies of several blocks add up, so helper processes return them like correct counts; a
:class:`ProbeLayout` says where each part sits in a setup's row, and :func:`summarize_probe`
turns a row into :class:`~vgtui.core.records.ActivationStats`. Sigmoid layers run as tanh in
inference snapshots (sigmoid = (1 + tanh(u/2)) / 2): they are tallied as that tanh and mapped
back here, which also keeps their spread exact (a sigmoid stuck at 0.5 is a tanh near 0).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from vgtui.core.histogram import BINS, BINS_PER_DECADE, BOUNDED, LOG_LOW, SATURATION
from vgtui.core.records import ActivationStats

HISTOGRAM_STRIDE = 4  # the histogram counts every 4th probe image; the other tallies all
SIGMOID_AS_TANH_SATURATION = 2 * SATURATION - 1
"""Sigmoid < 0.01 or > 0.99 is |tanh(u/2)| > 0.98: sigmoid layers are tallied as that tanh."""


@dataclass(frozen=True)
class ProbeLayout:
    """Where each hidden layer's tallies sit in a setup's row."""

    hidden: tuple[int, ...]  # units per hidden layer

    @staticmethod
    def of(layer_sizes: Sequence[int]) -> ProbeLayout:
        return ProbeLayout(tuple(int(n) for n in layer_sizes[1:-1]))

    def offsets(self) -> list[int]:
        starts, at = [], 1  # after the image count
        for units in self.hidden:
            starts.append(at)
            at += BINS + 1 + 3 * units
        return starts

    @property
    def width(self) -> int:
        return 1 + sum(BINS + 1 + 3 * units for units in self.hidden)


class ProbeTally:
    """Tallies one probe block's hidden activations (as an InferenceBank leaves them: one
    (setups, units, images) array per hidden layer, sigmoid as tanh) into a (setups, width)
    row per setup. Keeps its work arrays between calls (one per thread or process).

    Written for speed (it runs at every evaluation): bin indices are computed in float32,
    truncated to integers and clipped there (NaN from a diverged setup lands in some bin: its
    records are not kept), each setup's bins offset so that one bincount does a group."""

    def __init__(self, layer_sizes: Sequence[int], groups: Sequence[tuple[str, slice]]) -> None:
        self.layout = ProbeLayout.of(layer_sizes)
        self.groups = list(groups)
        self._work: dict[tuple[int, ...], tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
        setups = max((s.stop for _, s in self.groups), default=0)
        self._offsets = (np.arange(setups, dtype=np.intp) * BINS)[:, None, None]
        self._offsets_list = self.layout.offsets()

    def _work_arrays(self, shape: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        work = self._work.get(shape)
        if work is None:
            work = (np.empty(shape, np.float32), np.empty(shape, np.intp), np.empty(shape, bool))
            self._work[shape] = work
        return work

    def __call__(self, hidden: Sequence[np.ndarray], out: np.ndarray, first: int = 0) -> None:
        """Write the tallies of ``hidden`` (post-activations of every hidden layer, (setups,
        units, images), the images from the probe's ``first`` on) to ``out`` (setups, width),
        replacing what it held. The histogram takes the images whose place in the probe is a
        multiple of HISTOGRAM_STRIDE, so tallies of parts add up to the tally of the whole."""
        with np.errstate(invalid="ignore", divide="ignore"):  # NaN of a diverged setup
            self._tally(hidden, out, -first % HISTOGRAM_STRIDE)

    def _tally(self, hidden: Sequence[np.ndarray], out: np.ndarray, offset: int) -> None:
        setups = out.shape[0]
        out[:, 0] = hidden[0].shape[2] if hidden else 0
        for values, start, units in zip(
            hidden, self._offsets_list, self.layout.hidden, strict=True
        ):
            at = start + BINS + 1
            out[:, at : at + units] = values.sum(axis=2)
            out[:, at + units : at + 2 * units] = np.einsum("kur,kur->ku", values, values)
            saturated, alive = out[:, start + BINS], out[:, at + 2 * units : at + 3 * units]
            sample = values[:, :, offset::HISTOGRAM_STRIDE]
            scaled_all, index_all, mask_all = self._work_arrays(sample.shape)
            if not sample.shape[2]:  # no image of this part is in the histogram's sample
                out[:, start : start + BINS + 1] = 0.0
                alive[:] = values.max(axis=2) > 0 if values.shape[2] else 0.0
                continue
            for name, slots in self.groups:
                group, scaled, index = sample[slots], scaled_all[slots], index_all[slots]
                if name in BOUNDED:  # on [-1, 1] (sigmoid as tanh), BINS equal bins
                    sigmoid = SIGMOID_AS_TANH_SATURATION
                    threshold = sigmoid if name == "sigmoid" else SATURATION
                    np.abs(group, out=scaled)
                    mask = mask_all[slots]
                    np.greater(scaled, threshold, out=mask)
                    for slot in range(slots.start, slots.stop):
                        saturated[slot] = np.count_nonzero(mask_all[slot])
                    np.multiply(group, BINS / 2, out=scaled)
                    scaled += BINS / 2
                    np.clip(scaled, 0, BINS - 0.5, out=scaled)
                    np.copyto(index, scaled, casting="unsafe")
                    alive[slots] = 0.0
                else:  # log10 scale, inactive (<= 0) in bin 0
                    # a unit is alive if its largest activation is; summed over blocks
                    alive[slots] = values[slots].max(axis=2) > 0
                    saturated[slots] = 0.0  # the inactive share is the histogram's bin 0
                    # (log10 of 0 is slow: the inactive go to bin 0 below whatever it gives)
                    np.maximum(group, 1e-30, out=scaled)
                    np.log10(scaled, out=scaled)
                    scaled -= LOG_LOW - 1 / BINS_PER_DECADE
                    scaled *= BINS_PER_DECADE
                    np.clip(scaled, 1, BINS - 0.5, out=scaled)
                    mask = mask_all[slots]
                    np.greater(group, 0.0, out=mask)
                    scaled *= mask
                    np.copyto(index, scaled, casting="unsafe")
            index_all += self._offsets[:setups]
            try:
                counts = np.bincount(index_all.ravel(), minlength=setups * BINS)
            except ValueError:  # NaN (a diverged setup) cast to a negative bin: into bin 0
                for setup in range(setups):
                    np.clip(index_all[setup], setup * BINS, setup * BINS + BINS - 1,
                            out=index_all[setup])  # fmt: skip
                counts = np.bincount(index_all.ravel(), minlength=setups * BINS)
            out[:, start : start + BINS] = counts[: setups * BINS].reshape(setups, BINS)


def summarize_probe(
    tallies: np.ndarray, layout: ProbeLayout, activations: Sequence[str]
) -> list[tuple[ActivationStats, ...]]:
    """Every slot's tallies (slots, width; each row starts with the count of images) as
    statistics per hidden layer: one vectorised pass per layer (this runs on the trainer's
    thread at every evaluation)."""
    count = tallies.shape[0]
    images = tallies[:, 0]
    if not layout.hidden or not np.all(images > 0):
        return [() for _ in range(count)]
    bounded = np.array([a in BOUNDED for a in activations])
    # sigmoid = 0.5 + 0.5 tanh(u/2): its tallies are of that tanh
    sigmoid = np.array([a == "sigmoid" for a in activations])
    shift, scale = np.where(sigmoid, 0.5, 0.0), np.where(sigmoid, 0.5, 1.0)
    per_layer = []
    for start, units in zip(layout.offsets(), layout.hidden, strict=True):
        at = start + BINS + 1
        unit_mean = tallies[:, at : at + units] / images[:, None]
        squares = tallies[:, at + units : at + 2 * units] / images[:, None]
        alive = tallies[:, at + 2 * units : at + 3 * units]  # blocks a unit was active in
        # in the activation's own units; total variance = within units + between units
        mean = shift + scale * unit_mean.mean(axis=1)
        within = scale**2 * np.maximum(squares - unit_mean**2, 0.0).mean(axis=1)
        variance = within + scale**2 * unit_mean.var(axis=1)
        square = variance + mean**2
        with np.errstate(invalid="ignore", divide="ignore"):
            spread = np.where(square > 0, np.sqrt(within / np.where(square > 0, square, 1)), 0.0)
        histogram = tallies[:, start : start + BINS]
        sampled = np.maximum(histogram.sum(axis=1), 1)
        share = np.where(bounded, tallies[:, start + BINS], histogram[:, 0]) / sampled
        dead = np.count_nonzero(alive == 0, axis=1)
        per_layer.append(
            zip(
                mean.tolist(),
                np.sqrt(variance).tolist(),
                spread.tolist(),
                share.tolist(),
                dead.tolist(),
                histogram.astype(np.int64).tolist(),
                strict=True,
            )
        )
    rows: list[list[ActivationStats]] = [[] for _ in range(count)]
    for units, layer in zip(layout.hidden, per_layer, strict=True):
        for slot, (mean, std, spread, share, dead, histogram) in enumerate(layer):
            rows[slot].append(
                ActivationStats(
                    mean=mean,
                    std=std,
                    spread=spread,
                    saturated=share if bounded[slot] else math.nan,
                    inactive=math.nan if bounded[slot] else share,
                    dead_units=0 if bounded[slot] else dead,
                    units=units,
                    histogram=tuple(histogram),
                )
            )
    return [tuple(row) for row in rows]
