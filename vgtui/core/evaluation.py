"""Test-set evaluations of parameter snapshots, shared block by block between the trainer's
thread and helper processes (one per further core).

Why processes and not threads: next to a training thread in the same process, an evaluation
block took 20% longer and a training step 21% longer (the two threads hand the GIL back and
forth around each of their many NumPy calls); in two processes neither slowed down
(bench/README.md has the figures).

The helpers start on the first evaluation (``python -c``, the same interpreter, in their own
session so terminal signals go to the trainer's process only) and map one shared file with the
trainer: a nameless file (in /dev/shm where there is one, its name removed at once, its
descriptor handed to the helpers), so nothing is left behind however the processes end. It
holds the test blocks, a ring of snapshot slots, and per slot a generation number, the next
block to claim, the blocks done, each block's state and correct counts. A lock on the file
(released by the system if its holder dies) guards claims and completions; a socket per helper
announces each new snapshot. A helper that dies is noticed at the next evaluation or while
waiting: its unfinished blocks are evaluated here and evaluation goes on without helpers.
Helpers exit when told to or when the trainer's process goes away. No printing. Without POSIX
file locks (Windows) there are no helpers.
"""

from __future__ import annotations

import contextlib
import math
import mmap
import os
import pickle
import socket
import subprocess
import sys
import tempfile
import time
import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path

try:
    import fcntl
except ImportError:  # Windows: no helper processes
    fcntl = None  # type: ignore[assignment]

import numpy as np

from vgtui.core.blas import limit_blas_threads
from vgtui.core.inference import (
    InferenceBlock,
    InferenceEngine,
    InferenceParameters,
    parameter_shapes,
    parameters_over,
)

FREE, CLAIMED, DONE, CLAIMED_HERE = 0, 1, 2, 3  # states of a block: helper / trainer claims
ALIGN = 64  # bytes: each shared array starts on its own cache line
WAIT_SLEEP = 0.0002  # seconds between checks while helpers finish their last blocks
# The helper imports vgtui from where this process did (first, if that is not already on the
# default path: a source checkout), then serves on the socket and shared file it was given.
HELPER_COMMAND = (
    "import sys\n"
    "if sys.argv[2] not in sys.path: sys.path.insert(0, sys.argv[2])\n"
    "from vgtui.core.evaluation import serve\n"
    "serve(int(sys.argv[1]), int(sys.argv[3]))\n"
)


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
    slots: int

    def arrays(self) -> list[tuple[str, tuple[int, ...], np.dtype]]:
        """(name, shape, dtype) of every shared array, in file order."""
        setups, blocks = len(self.slot_activations), len(self.block_shapes)
        params = sum(math.prod(s) for s in parameter_shapes(self.layer_sizes, setups))
        shapes = self.block_shapes
        inputs = sum(used * rows for used, rows, _, _ in shapes)
        rare_inputs = sum(used * rows for _, _, used, rows in shapes)
        return [
            ("inputs", (inputs,), np.dtype(np.float32)),
            ("layer_rows", (sum(s[0] for s in shapes),), np.dtype(np.intp)),
            ("labels", (sum(s[1] for s in shapes),), np.dtype(np.intp)),
            ("rare_inputs", (rare_inputs,), np.dtype(np.float32)),
            ("rare_layer_rows", (sum(s[2] for s in shapes),), np.dtype(np.intp)),
            ("params", (self.slots, params), np.dtype(np.float32)),
            ("generation", (self.slots,), np.dtype(np.int64)),
            ("claims", (self.slots,), np.dtype(np.int64)),
            ("done", (self.slots,), np.dtype(np.int64)),
            ("state", (self.slots, blocks), np.dtype(np.int8)),
            ("correct", (self.slots, blocks, setups), np.dtype(np.int64)),
        ]

    def size(self) -> int:
        return sum(_aligned(math.prod(shape) * dtype.itemsize) for _, shape, dtype in self.arrays())


def _aligned(size: int) -> int:
    return -(-max(size, 1) // ALIGN) * ALIGN


@dataclass(frozen=True)
class SlotArrays:
    """One slot's bookkeeping: its generation, the next block to claim and the blocks done
    (one-element arrays), each block's state and correct counts per setup."""

    generation: np.ndarray
    claims: np.ndarray
    done: np.ndarray
    state: np.ndarray
    correct: np.ndarray


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
        setups = len(layout.slot_activations)
        self.slot_params = [parameters_over(p, layout.layer_sizes, setups) for p in self.params]

    def slot(self, slot: int) -> SlotArrays:
        """Views of one slot's bookkeeping."""
        one = slice(slot, slot + 1)
        return SlotArrays(
            self.generation[one],
            self.claims[one],
            self.done[one],
            self.state[slot],
            self.correct[slot],
        )

    def blocks(self, layout: SharedLayout) -> list[InferenceBlock]:
        """The test blocks as views of the shared arrays."""
        blocks, at = [], dict.fromkeys(_BLOCK_ARRAYS, 0)
        for used, rows, rare_used, rare_rows in layout.block_shapes:
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
            blocks.append(InferenceBlock(**part))
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


class Evaluation:
    """One snapshot's evaluation: blocks are claimed, evaluated and completed one at a time,
    by the trainer's thread and (through the shared file) by the helpers. A shared slot is
    reused by later snapshots: ``generation`` tells whether it still holds this one."""

    def __init__(
        self,
        params: InferenceParameters,
        slot: int | None,
        arrays: SlotArrays,
        lock: contextlib.AbstractContextManager,
        generation: int = 0,
    ) -> None:
        self.params, self.slot, self.generation = params, slot, generation
        self._arrays, self._lock = arrays, lock
        self.blocks = arrays.state.shape[0]

    @classmethod
    def local(cls, params: InferenceParameters, blocks: int, setups: int) -> Evaluation:
        """An evaluation only this thread works on (no helpers, or no free shared slot)."""
        arrays = SlotArrays(
            np.zeros(1, np.int64),
            np.zeros(1, np.int64),
            np.zeros(1, np.int64),
            np.zeros(blocks, np.int8),
            np.zeros((blocks, setups), np.int64),
        )
        return cls(params, None, arrays, contextlib.nullcontext())

    @property
    def finished(self) -> bool:
        return int(self._arrays.done[0]) >= self.blocks

    def _current(self) -> bool:
        return int(self._arrays.generation[0]) == self.generation

    def claim(self, mark: int = CLAIMED_HERE) -> int | None:
        """The next unclaimed block, marked ``mark`` (claimed here, or by a helper); None when
        none is left or the slot has moved on to a later snapshot."""
        arrays = self._arrays
        with self._lock:
            block = int(arrays.claims[0])
            if block >= self.blocks or not self._current():
                return None
            arrays.claims[0] = block + 1
            arrays.state[block] = mark
            return block

    def complete(self, block: int, correct: np.ndarray) -> None:
        """Record a block's correct counts (once: a block evaluated twice counts once)."""
        arrays = self._arrays
        with self._lock:
            if self._current() and arrays.state[block] != DONE:
                arrays.correct[block] = correct
                arrays.state[block] = DONE
                arrays.done[0] += 1

    def unfinished_blocks(self, state: int | None = None) -> list[int]:
        """Blocks not done (only those in ``state``, if given)."""
        with self._lock:
            states = self._arrays.state
            left = states != DONE if state is None else states == state
            return [int(b) for b in np.flatnonzero(left)]

    def correct(self) -> np.ndarray:
        """Correct predictions per slot over all blocks (once finished)."""
        with self._lock:
            return self._arrays.correct.sum(axis=0)


class EvaluationPool:
    """Evaluates parameter snapshots on test blocks with this thread and ``helpers`` helper
    processes. Only the thread that owns the pool may call it."""

    def __init__(
        self,
        engine: InferenceEngine,
        blocks: Sequence[InferenceBlock],
        helpers: int,
        slots: int,
    ) -> None:
        self.engine = engine
        self.blocks = list(blocks)
        self.slots = slots
        self._helpers_wanted = helpers
        self._views: SharedViews | None = None
        self._lock: contextlib.AbstractContextManager = contextlib.nullcontext()
        self._connections: list[Connection] = []
        self._processes: list[subprocess.Popen] = []
        self._free = list(range(slots))
        self._generation = 0
        self._finalizer: weakref.finalize | None = None

    @property
    def helpers(self) -> int:
        """Helper processes working (0 before the first evaluation and after a failure)."""
        return len(self._processes)

    def start(self, params: InferenceParameters) -> Evaluation:
        """Begin evaluating ``params`` (copied); helpers start on it at once."""
        if self._views is None and self._helpers_wanted > 0:
            self._start_helpers()
        self._generation += 1
        if self._processes and not self._helpers_alive():
            self._stop_helpers()
        views = self._views
        if views is None or not self._free:  # no shared slot: this thread does it all
            return Evaluation.local(params, len(self.blocks), self.engine.num_setups)
        slot = self._free.pop(0)
        slot_params = views.slot_params[slot]
        for target, source in zip(slot_params.arrays, params.arrays, strict=True):
            np.copyto(target, source)
        with self._lock:
            views.generation[slot] = self._generation
            views.claims[slot] = 0
            views.done[slot] = 0
            views.state[slot] = FREE
            views.correct[slot] = 0
        evaluation = Evaluation(slot_params, slot, views.slot(slot), self._lock, self._generation)
        self._announce(slot, self._generation)
        return evaluation

    def work_one(self, evaluation: Evaluation) -> bool:
        """Evaluate one more block of ``evaluation`` here; False when none is left to take."""
        block = evaluation.claim()
        if block is None:
            return False
        self._evaluate(evaluation, block)
        return True

    def _evaluate(self, evaluation: Evaluation, block: int) -> None:
        # A diverging setup overflows: that is detected from its loss, not printed here.
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            correct = self.engine.count_correct(self.blocks[block], evaluation.params)
        evaluation.complete(block, correct)

    def finish(self, evaluation: Evaluation) -> np.ndarray:
        """Evaluate what is left of ``evaluation`` here, wait for the helpers' last blocks and
        return the correct predictions per slot."""
        while self.work_one(evaluation):
            pass
        # Blocks this thread claimed but did not complete (interrupted, e.g. by Ctrl-C).
        for block in evaluation.unfinished_blocks(CLAIMED_HERE):
            self._evaluate(evaluation, block)
        while not evaluation.finished:
            if not self._helpers_alive():
                self._stop_helpers()  # what they had claimed is done here
                for block in evaluation.unfinished_blocks():
                    self._evaluate(evaluation, block)
                break
            time.sleep(WAIT_SLEEP)
        return evaluation.correct()

    def release(self, evaluation: Evaluation) -> None:
        """Give ``evaluation``'s slot back (after :meth:`finish`)."""
        if evaluation.slot is not None and self._views is not None:
            self._free.append(evaluation.slot)
            evaluation.slot = None

    def close(self) -> None:
        """Stop the helpers and close the shared file."""
        if self._finalizer is not None:
            self._finalizer()
        self._processes, self._connections = [], []

    # -- helpers -------------------------------------------------------------------------------
    def _start_helpers(self) -> None:
        """Share the blocks and start the helpers; on any failure, carry on without (once)."""
        wanted, self._helpers_wanted = self._helpers_wanted, 0
        if fcntl is None or not sys.executable:
            return
        layout = SharedLayout(
            layer_sizes=self.engine.layer_sizes,
            slot_activations=self.engine.slot_activations,
            block_shapes=tuple((*b.inputs.shape, *b.rare_inputs.shape) for b in self.blocks),
            slots=self.slots,
        )
        descriptor = _shared_file(layout.size())
        if descriptor is None:  # nowhere to share memory: evaluate in this thread
            return
        try:
            shared = mmap.mmap(descriptor, layout.size())
        except OSError:
            os.close(descriptor)
            return
        views = SharedViews(shared, layout)
        views.store(self.blocks)
        self.blocks = views.blocks(layout)  # the blocks move into shared memory: one copy
        processes, connections = [], []
        try:
            for _ in range(wanted):
                process, connection = _launch_helper(descriptor)
                processes.append(process)
                connections.append(connection)
                connection.send(layout)
        except OSError:  # cannot start processes here: evaluate in this thread
            _shut_down(processes, connections, descriptor)
            return
        self._views, self._lock = views, FileLock(descriptor)
        self._processes, self._connections = processes, connections
        self._finalizer = weakref.finalize(self, _shut_down, processes, connections, descriptor)

    def _announce(self, slot: int, generation: int) -> None:
        for connection in self._connections:
            with contextlib.suppress(OSError):  # a helper that is gone: finish() notices
                connection.send((slot, generation))

    def _helpers_alive(self) -> bool:
        return all(process.poll() is None for process in self._processes)

    def _stop_helpers(self) -> None:
        """Carry on without helpers (one has died): stop the others."""
        for connection in self._connections:
            with contextlib.suppress(OSError):
                connection.send(None)
        for process in self._processes:
            _end(process)
        self._processes, self._connections = [], []


def _launch_helper(shared: int) -> tuple[subprocess.Popen, Connection]:
    """Start one helper process with a socket to it and the ``shared`` file descriptor."""
    ours, theirs = socket.socketpair()
    package_root = str(Path(__file__).resolve().parents[2])
    command = [sys.executable, "-c", HELPER_COMMAND, str(theirs.fileno()), package_root]
    try:
        process = subprocess.Popen(
            [*command, str(shared)],
            pass_fds=(theirs.fileno(), shared),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
            env={**os.environ, "OPENBLAS_NUM_THREADS": "1"},  # one BLAS thread from the start
        )
    except BaseException:
        ours.close()
        raise
    finally:
        theirs.close()
    return process, Connection(ours.detach())


def _end(process: subprocess.Popen) -> None:
    try:
        process.wait(timeout=2.0)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _shared_file(size: int) -> int | None:
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


def _shut_down(
    processes: list[subprocess.Popen], connections: list[Connection], descriptor: int
) -> None:
    """Stop the helpers and close the shared file."""
    for connection in connections:
        with contextlib.suppress(OSError):
            connection.send(None)
    for process in processes:
        _end(process)
    for connection in connections:
        connection.close()
    with contextlib.suppress(OSError):
        os.close(descriptor)


def serve(socket_descriptor: int, shared: int) -> None:
    """A helper process: evaluate blocks of each announced snapshot until told to stop (or
    until the trainer's process goes away). ``shared`` is the shared file's descriptor."""
    connection = Connection(socket_descriptor)
    try:
        layout = connection.recv()
        mapped = mmap.mmap(shared, layout.size())
    except (EOFError, OSError, pickle.UnpicklingError):
        return  # the trainer has gone already
    limit_blas_threads(1)
    lock = FileLock(shared)
    views = SharedViews(mapped, layout)
    blocks = views.blocks(layout)
    engine = InferenceEngine(layout.layer_sizes, layout.slot_activations)
    with np.errstate(all="ignore"):
        while True:
            try:
                message = connection.recv()
            except (EOFError, OSError):
                break
            if message is None:
                break
            slot, generation = message
            _serve_slot(views, blocks, engine, lock, slot, generation)


def _serve_slot(
    views: SharedViews,
    blocks: list[InferenceBlock],
    engine: InferenceEngine,
    lock: FileLock,
    slot: int,
    generation: int,
) -> None:
    """Claim and evaluate blocks of one slot while it still holds ``generation``."""
    evaluation = Evaluation(views.slot_params[slot], slot, views.slot(slot), lock, generation)
    while (block := evaluation.claim(CLAIMED)) is not None:
        evaluation.complete(block, engine.count_correct(blocks[block], evaluation.params))
