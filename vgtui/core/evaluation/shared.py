"""The file that the trainer and its helper processes share, and how they share it: its layout
(the test blocks, a ring of snapshot entries, and per entry a generation number, the next block
to claim, the blocks done, each block's state and correct counts), NumPy views of it, and the
claim protocol over one entry, guarded by a lock on the file (released by the system if its
holder dies). The file is nameless (in /dev/shm where there is one, its name removed at once),
so nothing is left behind however the processes end. :mod:`vgtui.core.evaluation.helpers`
starts the helpers and runs their loop.
"""

from __future__ import annotations

import contextlib
import math
import mmap
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass

try:
    import fcntl
except ImportError:  # Windows: no POSIX file locks, so no helper processes
    fcntl = None  # type: ignore[assignment]

import numpy as np

from vgtui.core.activation_stats import ProbeLayout
from vgtui.core.inference import (
    InferenceBank,
    InferenceBlock,
    InferenceParameters,
    ProbeTarget,
    parameter_shapes,
    parameters_over,
    probe_buffer_fits,
)

FREE, CLAIMED, DONE, CLAIMED_HERE = 0, 1, 2, 3  # states of a block: helper / trainer claims
ALIGN = 64  # bytes: each shared array starts on its own cache line
RING_ENTRIES = 7  # snapshots in the shared file at once: more than the trainer keeps pending
FILE_LOCKS = fcntl is not None
"""POSIX file locks exist here (the claim protocol needs them)."""


class FileLock:
    """An exclusive lock on the first byte of an open file, shared by processes (not by the
    threads of one process); the system releases it if its holder dies."""

    def __init__(self, descriptor: int) -> None:
        self.descriptor = descriptor

    def __enter__(self) -> None:
        fcntl.lockf(self.descriptor, fcntl.LOCK_EX, 1, 0)

    def __exit__(self, *exc_info: object) -> None:
        fcntl.lockf(self.descriptor, fcntl.LOCK_UN, 1, 0)


@dataclass(frozen=True)
class SharedLayout:
    """What a helper needs to find everything in the shared file."""

    layer_sizes: tuple[int, ...]
    slot_activations: tuple[str, ...]
    # Each block's inputs (used pixels + 1, rows) and rare inputs (rare pixels, last rows).
    block_shapes: tuple[tuple[int, int, int, int], ...]
    entries: int
    probes: tuple[tuple[int, int, int], ...] = ()
    """Each block's probe rows (start, stop) and their place in the probe; empty: no probe."""
    slot_residual: tuple[bool, ...] = ()
    """Per slot: a +res setup (see InferenceParameters)."""

    @property
    def probe_size(self) -> int:
        return sum(stop - start for start, stop, _ in self.probes)

    @property
    def probe_in_buffer(self) -> bool:
        """The probe's activations are copied to a shared buffer per entry and tallied once
        (else each block's tallies are added up in the entry)."""
        setups = len(self.slot_activations)
        return probe_buffer_fits(self.layer_sizes, setups, self.probe_size)

    def arrays(self) -> list[tuple[str, tuple[int, ...], np.dtype]]:
        """(name, shape, dtype) of every shared array, in file order."""
        setups, blocks = len(self.slot_activations), len(self.block_shapes)
        params = sum(math.prod(s) for s in parameter_shapes(self.layer_sizes, setups))
        shapes, entries = self.block_shapes, self.entries
        inputs = sum(used * rows for used, rows, _, _ in shapes)
        rare_inputs = sum(used * rows for _, _, used, rows in shapes)
        return [
            ("inputs", (inputs,), np.dtype(np.float32)),
            ("layer_rows", (sum(s[0] for s in shapes),), np.dtype(np.intp)),
            ("labels", (sum(s[1] for s in shapes),), np.dtype(np.intp)),
            ("rare_inputs", (rare_inputs,), np.dtype(np.float32)),
            ("rare_layer_rows", (sum(s[2] for s in shapes),), np.dtype(np.intp)),
            ("params", (entries, params), np.dtype(np.float32)),
            ("generation", (entries,), np.dtype(np.int64)),
            ("claims", (entries,), np.dtype(np.int64)),
            ("done", (entries,), np.dtype(np.int64)),
            ("state", (entries, blocks), np.dtype(np.int8)),
            ("correct", (entries, blocks, setups), np.dtype(np.int64)),
            ("probe_acts", self._probe_acts_shape(), np.dtype(np.float32)),
            ("probe", (entries, setups, self._probe_tallies_width()), np.dtype(float)),
        ]

    def _probe_acts_shape(self) -> tuple[int, ...]:
        setups, units = len(self.slot_activations), sum(self.layer_sizes[1:-1])
        if self.probe_size and self.probe_in_buffer:
            return (self.entries, setups, units, self.probe_size)
        return (self.entries, setups, 0, 0)

    def _probe_tallies_width(self) -> int:
        return self.probe_width if self.probe_size else 0

    @property
    def probe_width(self) -> int:
        return ProbeLayout.of(self.layer_sizes).width

    def size(self) -> int:
        return sum(_aligned(math.prod(shape) * dtype.itemsize) for _, shape, dtype in self.arrays())


def _aligned(size: int) -> int:
    return -(-max(size, 1) // ALIGN) * ALIGN


@dataclass(frozen=True)
class EntryArrays:
    """One ring entry's bookkeeping: its generation, the next block to claim and the blocks
    done (one-element arrays), each block's state and correct counts per setup."""

    generation: np.ndarray
    claims: np.ndarray
    done: np.ndarray
    state: np.ndarray
    correct: np.ndarray
    probe_acts: np.ndarray  # (setups, hidden units, probe images): the probe's activations
    probe: np.ndarray  # (setups, probe width): the tallies of the blocks done (no buffer)


class SharedViews:
    """NumPy views of a shared file laid out by a :class:`SharedLayout`."""

    def __init__(self, buffer: mmap.mmap, layout: SharedLayout) -> None:
        offset, views = 0, {}
        for name, shape, dtype in layout.arrays():
            count = math.prod(shape)
            views[name] = np.frombuffer(buffer, dtype, count, offset).reshape(shape)
            offset += _aligned(count * dtype.itemsize)
        self.inputs: np.ndarray = views["inputs"]
        self.layer_rows: np.ndarray = views["layer_rows"]
        self.labels: np.ndarray = views["labels"]
        self.rare_inputs: np.ndarray = views["rare_inputs"]
        self.rare_layer_rows: np.ndarray = views["rare_layer_rows"]
        self.params: np.ndarray = views["params"]
        self.generation: np.ndarray = views["generation"]
        self.claims: np.ndarray = views["claims"]
        self.done: np.ndarray = views["done"]
        self.state: np.ndarray = views["state"]
        self.correct: np.ndarray = views["correct"]
        self.probe_acts: np.ndarray = views["probe_acts"]
        self.probe: np.ndarray = views["probe"]
        self.entry_params = [
            parameters_over(p, layout.layer_sizes, layout.slot_activations, layout.slot_residual)
            for p in self.params
        ]

    def entry(self, entry: int) -> EntryArrays:
        """Views of one ring entry's bookkeeping."""
        one = slice(entry, entry + 1)
        return EntryArrays(
            self.generation[one],
            self.claims[one],
            self.done[one],
            self.state[entry],
            self.correct[entry],
            self.probe_acts[entry],
            self.probe[entry],
        )

    def blocks(self, layout: SharedLayout) -> list[InferenceBlock]:
        """The test blocks as views of the shared arrays."""
        blocks, at = [], dict.fromkeys(_BLOCK_ARRAYS, 0)
        probes = layout.probes or ((0, 0, 0),) * len(layout.block_shapes)
        for (used, rows, rare_used, rare_rows), (probe_start, probe_stop, probe_at) in zip(
            layout.block_shapes, probes, strict=True
        ):
            shapes = {
                "inputs": (used, rows),
                "layer_rows": (used,),
                "labels": (rows,),
                "rare_inputs": (rare_used, rare_rows),
                "rare_layer_rows": (rare_used,),
            }
            part = {}
            for name, shape in shapes.items():
                size = math.prod(shape)
                part[name] = getattr(self, name)[at[name] : at[name] + size].reshape(shape)
                at[name] += size
            blocks.append(
                InferenceBlock(**part, probe_rows=(probe_start, probe_stop), probe_at=probe_at)
            )
        return blocks

    def store(self, blocks: Sequence[InferenceBlock]) -> None:
        """Copy ``blocks`` in (in the order :meth:`blocks` reads them back)."""
        at = dict.fromkeys(_BLOCK_ARRAYS, 0)
        for block in blocks:
            for name in _BLOCK_ARRAYS:
                values = getattr(block, name).ravel()
                getattr(self, name)[at[name] : at[name] + values.size] = values
                at[name] += values.size


_BLOCK_ARRAYS = ("inputs", "layer_rows", "labels", "rare_inputs", "rare_layer_rows")


class SharedBlocks:
    """Claims and completions of one snapshot's blocks in a ring entry, as both the trainer
    and the helpers see them. The entry is reused by later snapshots: ``generation`` tells
    whether it still holds this one."""

    def __init__(
        self,
        params: InferenceParameters,
        arrays: EntryArrays,
        lock: contextlib.AbstractContextManager,
        generation: int,
    ) -> None:
        self.params, self.generation = params, generation
        self._arrays, self._lock = arrays, lock
        self.blocks = arrays.state.shape[0]

    @property
    def finished(self) -> bool:
        return int(self._arrays.done[0]) >= self.blocks

    def _current(self) -> bool:
        return int(self._arrays.generation[0]) == self.generation

    def claim(self, mark: int = CLAIMED_HERE) -> int | None:
        """The next unclaimed block, marked ``mark`` (claimed here, or by a helper); None when
        none is left or the entry has moved on to a later snapshot."""
        arrays = self._arrays
        with self._lock:
            block = int(arrays.claims[0])
            if block >= self.blocks or not self._current():
                return None
            arrays.claims[0] = block + 1
            arrays.state[block] = mark
            return block

    def complete(
        self,
        block: int,
        correct: np.ndarray,
        tallies: np.ndarray | None = None,
        hold_last: bool = False,
    ) -> bool:
        """Record a block's correct counts and add its probe rows' ``tallies``, once: a block
        evaluated twice counts once. With ``hold_last``, the last block is marked done but
        not counted: True tells the caller to tally the probe and count it
        (:meth:`store_tallies`)."""
        arrays = self._arrays
        with self._lock:
            if not self._current() or arrays.state[block] == DONE:
                return False
            arrays.correct[block] = correct
            if tallies is not None:
                np.add(arrays.probe, tallies, out=arrays.probe)
            arrays.state[block] = DONE
            if hold_last and int(arrays.done[0]) + 1 >= self.blocks:
                return True
            arrays.done[0] += 1
            return False

    def unfinished_blocks(self, state: int | None = None) -> list[int]:
        """Blocks not done (only those in ``state``, if given)."""
        with self._lock:
            states = self._arrays.state
            left = states != DONE if state is None else states == state
            return [int(b) for b in np.flatnonzero(left)]

    def recount(self) -> None:
        """Count the blocks done afresh (a helper may have died between marking a block done
        and counting it)."""
        with self._lock:
            if self._current():
                self._arrays.done[0] = np.count_nonzero(self._arrays.state == DONE)

    def correct(self) -> np.ndarray:
        """Correct predictions per slot over all blocks (once finished)."""
        with self._lock:
            return self._arrays.correct.sum(axis=0)

    def probe_target(self, tallies: np.ndarray, scratch: np.ndarray) -> ProbeTarget | None:
        """Where a lane puts a block's probe activations: the entry's shared buffer, or (for
        :meth:`complete` to add) ``tallies``, zeroed."""
        arrays = self._arrays
        if arrays.probe_acts.size:
            return ProbeTarget(buffer=arrays.probe_acts)
        if arrays.probe.size:
            tallies[:] = 0.0
            return ProbeTarget(tallies=tallies, scratch=scratch)
        return None

    def evaluate(
        self,
        inference: InferenceBank,
        blocks: Sequence[InferenceBlock],
        block: int,
        room: tuple[np.ndarray, np.ndarray],
    ) -> None:
        """Evaluate ``block`` on this lane and record it. With the probe in a buffer, the lane
        whose block is the last one done tallies it (mostly a helper, not the trainer's
        thread): the evaluation counts as finished only once the tallies are written."""
        tallies, scratch = room
        target = self.probe_target(tallies, scratch)
        correct = inference.count_correct(blocks[block], self.params, target)
        if target is None or target.buffer is None:  # no probe, or tallied block by block
            self.complete(block, correct, None if target is None else target.tallies)
        elif self.complete(block, correct, hold_last=True):
            inference.tally_buffer(target.buffer, tallies)
            self.store_tallies(tallies)

    def store_tallies(self, tallies: np.ndarray) -> None:
        """Write the whole probe's tallies and count the last block done."""
        with self._lock:
            if self._current():
                self._arrays.probe[:] = tallies
                self._arrays.done[0] += 1

    def tally_here(self, inference: InferenceBank, out: np.ndarray) -> None:
        """Tally the probe's buffer on this lane and write the tallies."""
        target = self.probe_target(out, out)
        if target is not None and target.buffer is not None:
            inference.tally_buffer(target.buffer, out)
            with self._lock:
                if self._current():
                    self._arrays.probe[:] = out

    def tallied(self) -> bool:
        """Whether the probe's tallies are written (their image count is set)."""
        with self._lock:
            probe = self._arrays.probe
            return not probe.size or bool(np.all(probe[:, 0] > 0))

    def probe_sums(self) -> np.ndarray | None:
        """The probe's tallies (once finished); None without a probe."""
        with self._lock:
            probe = self._arrays.probe
            return probe.copy() if probe.size else None


def shared_file(size: int) -> int | None:
    """The descriptor of a new nameless file of ``size`` bytes with its space reserved (a
    full RAM-backed file system would otherwise kill the process that touches a missing
    page), in /dev/shm if possible, else in the temp dir; None if neither has room."""
    places = [None]
    if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK):
        places.insert(0, "/dev/shm")
    for place in places:
        try:
            descriptor, path = tempfile.mkstemp(prefix="vgtui-eval-", dir=place)
        except OSError:
            continue
        _remove(path)  # nameless from now on: nothing to clean up but the descriptor
        try:
            if hasattr(os, "posix_fallocate"):
                os.posix_fallocate(descriptor, 0, size)
            else:
                os.ftruncate(descriptor, size)
        except OSError:
            os.close(descriptor)
            continue
        return descriptor
    return None


def _remove(path: str) -> None:
    with contextlib.suppress(OSError):
        os.unlink(path)
