"""Test-set evaluation on the calling thread: the plain implementation of
:class:`~vgtui.core.evaluation.interface.Evaluator`, and the fallback of the helper-process one."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from vgtui.core.inference import (
    InferenceBank,
    InferenceBlock,
    InferenceParameters,
    new_probe_target,
)


class LocalEvaluator:
    """Evaluates on the thread that asks, one block at a time."""

    def __init__(self, blocks: Sequence[InferenceBlock]) -> None:
        self.blocks = list(blocks)
        self._inference: InferenceBank | None = None

    def start(self, snapshot: InferenceParameters) -> LocalPending:
        inference = self._inference
        if inference is None or (inference.slot_activations, inference.slot_residual) != (
            snapshot.slot_activations,
            snapshot.slot_residual,
        ):
            inference = self._inference = InferenceBank(
                snapshot.layer_sizes, snapshot.slot_activations, snapshot.slot_residual
            )
        return LocalPending(inference, self.blocks, snapshot)

    def close(self) -> None:
        self._inference = None


class LocalPending:
    """:class:`Pending` for :class:`LocalEvaluator`: blocks are counted in order on demand."""

    def __init__(
        self,
        inference: InferenceBank,
        blocks: Sequence[InferenceBlock],
        snapshot: InferenceParameters,
    ) -> None:
        self._inference, self._blocks, self._snapshot = inference, blocks, snapshot
        self._next = 0
        self._correct = np.zeros(len(snapshot.slot_activations), dtype=np.int64)
        probe_size = sum(block.probe_size for block in blocks)
        self._probe = new_probe_target(snapshot.layer_sizes, len(self._correct), probe_size)
        self._probe_sums: np.ndarray | None = None

    @property
    def finished(self) -> bool:
        return self._next >= len(self._blocks)

    def help_one(self) -> bool:
        if self.finished:
            return False
        block = self._blocks[self._next]
        # A diverging setup overflows: that is detected from its loss, not printed here.
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            self._correct += self._inference.count_correct(block, self._snapshot, self._probe)
        self._next += 1
        return True

    def counts(self) -> np.ndarray:
        while self.help_one():
            pass
        if self._probe is not None and self._probe_sums is None:
            with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                self._probe_sums = self._inference.probe_result(self._probe)
        return self._correct

    def probe_sums(self) -> np.ndarray | None:
        return self._probe_sums
