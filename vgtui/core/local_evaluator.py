"""Test-set evaluation on the calling thread: the plain implementation of
:class:`~vgtui.core.evaluator.Evaluator`, and the fallback of the helper-process one."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from vgtui.core.inference import InferenceBank, InferenceBlock, InferenceParameters


class LocalEvaluator:
    """Evaluates on the thread that asks, one block at a time."""

    def __init__(self, blocks: Sequence[InferenceBlock]) -> None:
        self.blocks = list(blocks)
        self._inference: InferenceBank | None = None

    def start(self, snapshot: InferenceParameters) -> LocalPending:
        inference = self._inference
        if inference is None or inference.slot_activations != snapshot.slot_activations:
            inference = self._inference = InferenceBank(
                snapshot.layer_sizes, snapshot.slot_activations
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
        probes = sum(block.probe >= 0 for block in blocks)
        self._probe = np.zeros((probes, len(snapshot.slot_activations), inference.probe_width))

    @property
    def finished(self) -> bool:
        return self._next >= len(self._blocks)

    def help_one(self) -> bool:
        if self.finished:
            return False
        block = self._blocks[self._next]
        # A diverging setup overflows: that is detected from its loss, not printed here.
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            probe = self._probe[block.probe] if block.probe >= 0 else None
            self._correct += self._inference.count_correct(block, self._snapshot, probe)
        self._next += 1
        return True

    def counts(self) -> np.ndarray:
        while self.help_one():
            pass
        return self._correct

    def probe_sums(self) -> np.ndarray | None:
        return self._probe.sum(axis=0) if len(self._probe) else None
