"""Test-set evaluation shared block by block between the trainer's thread and helper processes,
one per further core: as processes, not threads, so the two lanes never wait on each other's
GIL (bench/README.md has the measurements). Deleting this module leaves the in-thread
:class:`~vgtui.core.evaluation.local.LocalEvaluator`.

The helpers start on the first evaluation (``python -c``, the same interpreter, in their own
session so terminal signals go to the trainer's process only) and map one shared file with the
trainer (its layout and claim protocol: :mod:`vgtui.core.evaluation.shared`), its descriptor
handed to them; a socket per helper announces each new snapshot. A helper that dies is noticed
at the next evaluation or while waiting: from then on evaluation goes on without helpers, and
every pending evaluation counts here whatever is not done, claimed blocks included (their
claimer is gone). Helpers exit when told to, or within a block of the trainer's process going
away. No printing.
"""

from __future__ import annotations

import contextlib
import mmap
import os
import pickle
import socket
import subprocess
import sys
import time
import weakref
from collections.abc import Callable, Sequence
from multiprocessing.connection import Connection
from pathlib import Path

import numpy as np

from vgtui.core.blas import limit_blas_threads
from vgtui.core.evaluation.local import LocalEvaluator, LocalPending
from vgtui.core.evaluation.shared import (
    CLAIMED,
    CLAIMED_HERE,
    FILE_LOCKS,
    FREE,
    RING_ENTRIES,
    FileLock,
    SharedBlocks,
    SharedLayout,
    SharedViews,
    shared_file,
)
from vgtui.core.inference import InferenceBank, InferenceBlock, InferenceParameters

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
    def helper_pids(self) -> list[int]:
        """The helper processes working (none before the first evaluation and after a
        failure)."""
        return [process.pid for process in self._processes]

    def start(self, snapshot: InferenceParameters) -> SharedPending | LocalPending:
        """Begin evaluating ``snapshot`` (copied); helpers start on it at once."""
        if self._inference is None:
            self._inference = InferenceBank(
                snapshot.layer_sizes, snapshot.slot_activations, snapshot.slot_residual
            )
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
            slot_residual=snapshot.slot_residual,
        )
        descriptor = shared_file(layout.size())
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
    return FILE_LOCKS and bool(sys.executable)


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
    inference = InferenceBank(layout.layer_sizes, layout.slot_activations, layout.slot_residual)
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
