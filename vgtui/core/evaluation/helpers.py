"""Test-set evaluation shared block by block between the trainer's thread and helper processes,
one per further core: as processes, not threads, so the two lanes never wait on each other's
GIL (bench/README.md has the measurements). Deleting this module leaves the in-thread
:class:`~vgtui.core.evaluation.local.LocalEvaluator`.

The helpers start on the first evaluation (``python -c``, the same interpreter, in their own
session so terminal signals go to the trainer's process only) and map one shared file with the
trainer: a nameless file (in /dev/shm where there is one, its name removed at once, its
descriptor handed to the helpers), so nothing is left behind however the processes end. It
holds the test blocks, a ring of snapshot entries, and per entry a generation number, the next
block to claim, the blocks done, each block's state and correct counts. A lock on the file
(released by the system if its holder dies) guards claims and completions; a socket per helper
announces each new snapshot. A helper that dies is noticed at the next evaluation or while
waiting: from then on evaluation goes on without helpers, and every pending evaluation counts
here whatever is not done, claimed blocks included (their claimer is gone). Helpers exit when
told to, or within a block of the trainer's process going away. No printing.
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
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path

try:
    import fcntl
except ImportError:  # Windows: no POSIX file locks, so no helper processes
    fcntl = None  # type: ignore[assignment]

import numpy as np

from vgtui.core.activation_stats import ProbeLayout
from vgtui.core.blas import limit_blas_threads
from vgtui.core.evaluation.local import LocalEvaluator, LocalPending
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
RING_ENTRIES = 7  # snapshots in the shared file at once: more than the trainer keeps pending
ALIGN = 64  # bytes: each shared array starts on its own cache line
HELPER_EXIT_SECONDS = 0.2  # a helper told to stop gets this long before it is killed
WAIT_SLEEP = 0.0002  # seconds between checks while helpers finish their last blocks
ORPHAN_CHECK = 0.5  # seconds an idle helper waits for an announcement between parent checks
# The helper imports vgtui from where this process did (first, if that is not already on the
# default path: a source checkout), then serves on the socket and shared file it was given.
HELPER_COMMAND = (
    "import sys\n"
    "if sys.argv[2] not in sys.path: sys.path.insert(0, sys.argv[2])\n"
    "from vgtui.core.evaluation.helpers import serve\n"
    "serve(int(sys.argv[1]), int(sys.argv[3]), int(sys.argv[4]))\n"
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
    entries: int
    probes: tuple[tuple[int, int, int], ...] = ()
    """Each block's probe rows (start, stop) and their place in the probe; empty: no probe."""

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
            parameters_over(p, layout.layer_sizes, layout.slot_activations) for p in self.params
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


class SharedPending:
    """:class:`~vgtui.core.evaluation.interface.Pending` for an evaluation in a ring entry."""

    def __init__(self, evaluator: HelperEvaluator, entry: int, shared: SharedBlocks) -> None:
        self._evaluator, self.entry, self.shared = evaluator, entry, shared
        self._counts: np.ndarray | None = None
        self._probe: np.ndarray | None = None

    @property
    def finished(self) -> bool:
        # Once counted, the entry may hold a later snapshot already.
        return self._counts is not None or self.shared.finished

    def help_one(self) -> bool:
        return self._counts is None and self._evaluator.work_one(self.shared)

    def counts(self) -> np.ndarray:
        if self._counts is None:
            self._counts = self._evaluator.finish(self.shared)
            self._probe = self.shared.probe_sums()  # before the entry is reused
            self._evaluator.release(self.entry)
        return self._counts

    def probe_sums(self) -> np.ndarray | None:
        return self._probe


class HelperEvaluator:
    """Evaluates snapshots with the calling thread and ``helpers`` helper processes, started on
    the first evaluation. Only the thread that owns it may call it. Where helpers cannot start
    (no shared memory, no processes) or every ring entry is taken, the calling thread
    evaluates alone (:class:`~vgtui.core.evaluation.local.LocalEvaluator`)."""

    def __init__(
        self, blocks: Sequence[InferenceBlock], helpers: int, entries: int = RING_ENTRIES
    ) -> None:
        self.blocks = list(blocks)
        self.entries = entries
        self._local = LocalEvaluator(self.blocks)
        self._helpers_wanted = helpers
        self._inference: InferenceBank | None = None
        self._views: SharedViews | None = None
        self._lock: contextlib.AbstractContextManager = contextlib.nullcontext()
        self._connections: list[Connection] = []
        self._processes: list[subprocess.Popen] = []
        self._free = list(range(entries))
        self._generation = 0
        self._finalizer: weakref.finalize | None = None
        self._tallies = np.zeros(0)  # a block's probe tallies, before they are shared
        self._scratch = np.zeros(0)

    @property
    def helpers(self) -> int:
        """Helper processes working (0 before the first evaluation and after a failure)."""
        return len(self._processes)

    @property
    def helper_pids(self) -> list[int]:
        return [process.pid for process in self._processes]

    def start(self, snapshot: InferenceParameters) -> SharedPending | LocalPending:
        """Begin evaluating ``snapshot`` (copied); helpers start on it at once."""
        if self._inference is None:
            self._inference = InferenceBank(snapshot.layer_sizes, snapshot.slot_activations)
            shape = (len(snapshot.slot_activations), self._inference.probe_width)
            self._tallies, self._scratch = np.zeros(shape), np.zeros(shape)
            if self._helpers_wanted > 0:
                self._start_helpers(snapshot)
        self._generation += 1
        if self._processes and not self._helpers_alive():
            self._stop_helpers()
        views = self._views
        if views is None or not self._free:  # no ring entry: this thread does it all
            return self._local.start(snapshot)
        entry = self._free.pop(0)
        entry_params = views.entry_params[entry]
        for target, source in zip(entry_params.arrays, snapshot.arrays, strict=True):
            np.copyto(target, source)
        with self._lock:
            views.generation[entry] = self._generation
            views.claims[entry] = 0
            views.done[entry] = 0
            views.state[entry] = FREE
            views.correct[entry] = 0
            views.probe[entry] = 0.0
        shared = SharedBlocks(entry_params, views.entry(entry), self._lock, self._generation)
        self._announce(entry, self._generation)
        return SharedPending(self, entry, shared)

    def work_one(self, shared: SharedBlocks) -> bool:
        """Evaluate one more block of ``shared`` here; False when none is left to take. Without
        helpers, blocks a helper claimed before it went are left to take too."""
        block = shared.claim()
        if block is None:
            if self._processes:
                return False
            left = shared.unfinished_blocks()
            if not left:
                return False
            block = left[0]
        self._evaluate(shared, block)
        return True

    def _evaluate(self, shared: SharedBlocks, block: int) -> None:
        assert self._inference is not None
        # A diverging setup overflows: that is detected from its loss, not printed here.
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            shared.evaluate(self._inference, self.blocks, block, (self._tallies, self._scratch))

    def finish(self, shared: SharedBlocks) -> np.ndarray:
        """Evaluate what is left of ``shared`` here, wait for the helpers' last blocks and
        return the correct predictions per slot."""
        while self.work_one(shared):
            pass
        # Blocks this thread claimed but did not complete (interrupted, e.g. by Ctrl-C).
        for block in shared.unfinished_blocks(CLAIMED_HERE):
            self._evaluate(shared, block)
        while not shared.finished:
            # No helper left (this evaluation's, or one noticed earlier, may have died holding
            # claims): what is not done is done here; a block done twice counts once.
            if not (self._processes and self._helpers_alive()):
                self._stop_helpers()
                for block in shared.unfinished_blocks():
                    self._evaluate(shared, block)
                shared.recount()
                if not shared.tallied():  # its last block's lane died while tallying
                    assert self._inference is not None
                    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                        shared.tally_here(self._inference, self._tallies)
                break
            time.sleep(WAIT_SLEEP)
        return shared.correct()

    def release(self, entry: int) -> None:
        """Give a ring entry back (after :meth:`finish`)."""
        if self._views is not None:
            self._free.append(entry)

    def close(self) -> None:
        """Stop the helpers and close the shared file."""
        if self._finalizer is not None:
            self._finalizer()
        self._processes, self._connections = [], []

    # -- helpers -------------------------------------------------------------------------------
    def _start_helpers(self, snapshot: InferenceParameters) -> None:
        """Share the blocks and start the helpers; on any failure, carry on without (once)."""
        wanted, self._helpers_wanted = self._helpers_wanted, 0
        if not helpers_supported():
            return
        layout = SharedLayout(
            layer_sizes=snapshot.layer_sizes,
            slot_activations=snapshot.slot_activations,
            block_shapes=tuple((*b.inputs.shape, *b.rare_inputs.shape) for b in self.blocks),
            entries=self.entries,
            probes=tuple((*b.probe_rows, b.probe_at) for b in self.blocks),
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
        self._local = LocalEvaluator(self.blocks)
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

    def _announce(self, entry: int, generation: int) -> None:
        for connection in self._connections:
            with contextlib.suppress(OSError):  # a helper that is gone: finish() notices
                connection.send((entry, generation))

    def _helpers_alive(self) -> bool:
        return all(process.poll() is None for process in self._processes)

    def _stop_helpers(self) -> None:
        """Carry on without helpers (one has died): stop the others."""
        if not self._processes:
            return
        for connection in self._connections:
            with contextlib.suppress(OSError):
                connection.send(None)
        for process in self._processes:
            _end(process)
        self._processes, self._connections = [], []


def helpers_supported() -> bool:
    """Helper processes need POSIX file locks and a Python to start."""
    return fcntl is not None and bool(sys.executable)


def _launch_helper(shared: int) -> tuple[subprocess.Popen, Connection]:
    """Start one helper process with a socket to it and the ``shared`` file descriptor."""
    ours, theirs = socket.socketpair()
    package_root = str(Path(__file__).resolve().parents[3])
    command = [sys.executable, "-c", HELPER_COMMAND, str(theirs.fileno()), package_root]
    try:
        process = subprocess.Popen(
            [*command, str(shared), str(os.getpid())],
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
    """Let a helper that was told to stop exit; one still in a block (which may take long for
    a large network) is killed: it holds nothing the trainer needs."""
    try:
        process.wait(timeout=HELPER_EXIT_SECONDS)
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


def serve(socket_descriptor: int, shared: int, parent: int | None = None) -> None:
    """A helper process: evaluate blocks of each announced snapshot until told to stop, or
    until ``parent`` (the trainer's process, by default this one's parent) is gone: checked
    between blocks, since an orphan would otherwise work off every snapshot still announced.
    ``shared`` is the shared file's descriptor."""
    parent = os.getppid() if parent is None else parent

    def orphaned() -> bool:  # the parent's children pass to another process when it dies
        return os.getppid() != parent

    connection = Connection(socket_descriptor)
    try:
        layout = connection.recv()
        mapped = mmap.mmap(shared, layout.size())
    except (EOFError, OSError, pickle.UnpicklingError):
        return  # the trainer has gone already
    limit_blas_threads(1)  # this process is one lane: one BLAS thread
    lock = FileLock(shared)
    views = SharedViews(mapped, layout)
    blocks = views.blocks(layout)
    inference = InferenceBank(layout.layer_sizes, layout.slot_activations)
    shape = (len(layout.slot_activations), inference.probe_width)
    tallies, scratch = np.zeros(shape), np.zeros(shape)
    with np.errstate(all="ignore"):
        while (announced := _announcements(connection, orphaned)) is not None:
            for entry, generation in announced.items():
                shared = SharedBlocks(
                    views.entry_params[entry], views.entry(entry), lock, generation
                )
                _serve_entry(shared, blocks, inference, (tallies, scratch), orphaned)


def _announcements(connection: Connection, orphaned: Callable[[], bool]) -> dict[int, int] | None:
    """The ring entries announced since the last call (waiting for one), each with its newest
    generation only (an older one is stale: the entry holds a later snapshot), in the order
    of those announcements. None when told to stop or when the trainer's process is gone."""
    announced: dict[int, int] = {}
    try:
        while not connection.poll(ORPHAN_CHECK):
            if orphaned():
                return None
        while True:
            message = connection.recv()
            if message is None:
                return None
            entry, generation = message
            announced.pop(entry, None)
            announced[entry] = generation
            if not connection.poll(0):
                break
    except (EOFError, OSError):
        return None
    return None if orphaned() else announced


def _serve_entry(
    shared: SharedBlocks,
    blocks: list[InferenceBlock],
    inference: InferenceBank,
    room: tuple[np.ndarray, np.ndarray],
    orphaned: Callable[[], bool],
) -> None:
    """Claim and evaluate blocks of one ring entry while it still holds its snapshot and the
    trainer's process is there (``room``: for a block's probe tallies, and scratch)."""
    while not orphaned() and (block := shared.claim(CLAIMED)) is not None:
        shared.evaluate(inference, blocks, block, room)
