"""Run folders: ``config.json``, ``metrics.csv`` and ``summary.json``, written atomically."""

from __future__ import annotations

import contextlib
import csv
import io
import json
import math
import os
import platform
import re
import secrets
import socket
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path

import numpy as np

from vgtui import __version__
from vgtui.core.config import RunConfig, base_setup
from vgtui.core.diagnosis import diagnose
from vgtui.core.histogram import BINS, histogram_scale
from vgtui.core.records import BATCH_NORM_FIELDS, MetricRecord
from vgtui.core.summary import SetupSummary, seeds_vary, summarize
from vgtui.core.traits import folder_description
from vgtui.core.vocabulary import RunStatus

FLUSH_INTERVAL_SECONDS = 2.0
FORMAT_VERSION = 2
"""Run folders: 1 had config.json, metrics.csv and summary.json; 2 adds records.jsonl (appended
as records arrive, so a run can be followed while it is written) and the writer's process."""
RECORDS_FILE = "records.jsonl"


class RunWriteError(OSError):
    """A file of the run folder could not be written; the message names it and the error."""

    def __init__(self, path: Path, error: OSError) -> None:
        super().__init__(error.errno, f"cannot write {path}: {error.strerror or error}")
        self.path = path

    def __str__(self) -> str:
        return str(self.strerror)


def _finite_or_none(value: float) -> float | None:
    return value if isinstance(value, float) and math.isfinite(value) else None


def json_safe(data: dict) -> dict:
    """Replace NaN and infinities (not valid JSON) by None, in nested lists and dicts too."""
    return {key: _json_value(value) for key, value in data.items()}


def _json_value(value: object) -> object:
    if isinstance(value, float):
        return _finite_or_none(value)
    if isinstance(value, dict):
        return json_safe(value)
    if isinstance(value, (list, tuple)):
        return [_json_value(item) for item in value]
    return value


def record_line(record: MetricRecord) -> str:
    """A record as one line of records.jsonl, as ``vgtui --json`` streams it too."""
    return json.dumps(json_safe(record.to_dict())) + "\n"


def _create_temporary(path: Path) -> tuple[int, str]:
    """A new file beside ``path``, with the permissions the umask gives (0644 under umask
    022, as records.jsonl has: a run folder is shared as it is); mkstemp's are 0600."""
    while True:
        name = str(path.parent / f".{path.name}.{secrets.token_hex(4)}.tmp")
        try:
            return os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666), name
        except FileExistsError:
            continue


def atomic_write_text(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` so that readers never see a half-written file."""
    fd, temp_name = _create_temporary(path)
    try:
        with os.fdopen(fd, "w", newline="") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp_name, path)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise


def metrics_csv(records: Sequence[MetricRecord], num_layers: int) -> str:
    """Tidy CSV: one row per record, one column per layer's gradient norm."""
    buffer = io.StringIO()
    columns = [
        "iteration",
        "setup",
        "train_accuracy",
        "test_accuracy",
        "train_loss",
        "seconds",
        "status",
    ] + [f"grad_norm_{layer}" for layer in range(1, num_layers + 1)]
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n", extrasaction="ignore")
    writer.writeheader()
    for record in records:
        row = record.to_dict()
        writer.writerow({k: ("" if _is_nan(v) else v) for k, v in row.items()})
    return buffer.getvalue()


def _is_nan(value: object) -> bool:
    return isinstance(value, float) and math.isnan(value)


LAYER_COLUMNS = ("delta_std", "weight_std", "update_ratio", "grad_zeros")


def layers_csv(records: Sequence[MetricRecord]) -> str:
    """Tidy CSV of the per-layer statistics: one row per record and weight layer (input layer
    1), then a batch-norm layer's gamma, beta, running mean and running std (means over its
    units; empty for layers and setups without batch norm), ``pandas.read_csv("layers.csv")``
    in one line."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(("iteration", "setup", "layer", "grad_norm", *LAYER_COLUMNS,
                     *BATCH_NORM_FIELDS))  # fmt: skip
    for record in records:
        for number, (norm, layer) in enumerate(
            zip(record.grad_norms, record.layers, strict=False), start=1
        ):
            values = [norm, layer.delta_std, layer.weight_std, layer.update_ratio]
            cells = ["" if _is_nan(v) else v for v in values]
            norms = [getattr(layer, key) for key in BATCH_NORM_FIELDS]
            norm_cells = ["" if v is None or _is_nan(v) else v for v in norms]
            writer.writerow((record.iteration, record.setup, number, *cells, layer.grad_zeros,
                             *norm_cells))  # fmt: skip
    return buffer.getvalue()


ACTIVATION_COLUMNS = ("units", "mean", "std", "spread", "saturated", "inactive", "dead_units")


def activations_csv(records: Sequence[MetricRecord], config: RunConfig) -> str:
    """Tidy CSV of the hidden layers' activation statistics on the probe images: one row per
    record and hidden layer (first hidden layer 1), the histogram as columns bin_0..bin_19
    with its scale (``linear`` from hist_low to hist_high; ``log10``: bin_0 counts a <= 0,
    bin_k (k >= 1) 10**(hist_low + (k-1)/3) up to 10**(hist_low + k/3)).
    ``pandas.read_csv("activations.csv")`` in one line."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    bins = [f"bin_{k}" for k in range(BINS)]
    writer.writerow(("iteration", "setup", "layer", *ACTIVATION_COLUMNS, "hist_scale",
                     "hist_low", "hist_high", *bins))  # fmt: skip
    activation_of = {spec.name: spec.activation for spec in config.setups}
    for record in records:
        scale = histogram_scale(activation_of[base_setup(record.setup)])
        for number, layer in enumerate(record.activations, start=1):
            values = [layer.mean, layer.std, layer.spread, layer.saturated, layer.inactive]
            cells = ["" if _is_nan(v) else f"{v:.6g}" for v in values]
            writer.writerow(
                (
                    record.iteration,
                    record.setup,
                    number,
                    layer.units,
                    *cells,
                    layer.dead_units,
                    scale.kind,
                    f"{scale.low:.6g}",
                    f"{scale.high:.6g}",
                    *layer.histogram,
                )
            )
    return buffer.getvalue()


@dataclass(frozen=True)
class FolderName:
    """What a run or sweep folder's name says: ``20261129-151215-notebook-2`` is the second
    folder of a ``notebook`` run (or of ``sweep``) started at that second."""

    stamp: str
    """When its writer started: ``YYYYMMDD-HHMMSS``."""
    kind: str
    """What a run is (its preset, or the nearest preset and what differs: ``notebook-lr0.5``;
    ``custom`` before issue 19), or ``sweep``."""
    number: int = 1

    def __str__(self) -> str:
        return f"{self.stamp}-{self.kind}" + (f"-{self.number}" if self.number > 1 else "")

    @classmethod
    def parse(cls, name: str) -> FolderName | None:
        """The parts of ``name``, or None if a writer of vgtui did not name it."""
        match = _FOLDER_NAME.fullmatch(name)
        if match is None:
            return None
        stamp, kind, number = match.groups()
        return cls(stamp, kind, int(number or 1))


_FOLDER_NAME = re.compile(r"(\d{8}-\d{6})-(.+?)(?:-([2-9]|[1-9]\d+))?")


def folder_order(name: str) -> tuple[str, int, str]:
    """Sorts folders oldest first: by start time, then number (``-2`` before ``-10``); a name
    vgtui did not write sorts by itself."""
    parsed = FolderName.parse(name)
    return (parsed.stamp, parsed.number, name) if parsed else (name, 0, name)


def new_run_dir(out_root: Path, preset: str, now: datetime | None = None) -> Path:
    """Create ``out_root/<timestamp>-<preset>`` (with a numeric suffix if taken), never reusing."""
    stamp = (now or datetime.now()).strftime("%Y%m%d-%H%M%S")
    out_root.mkdir(parents=True, exist_ok=True)
    for number in range(1, 1000):
        candidate = out_root / str(FolderName(stamp, preset, number))
        try:
            candidate.mkdir()
        except FileExistsError:
            continue
        return candidate
    raise FileExistsError(f"no free run folder name under {out_root}")


class RunWriter:
    """Collects records of one run and keeps its run folder up to date on disk."""

    def __init__(
        self,
        out_root: Path | str,
        config: RunConfig,
        dataset_name: str,
        data_source: dict | None = None,
    ) -> None:
        self.config = config
        self.dataset_name = dataset_name
        self.data_source = data_source or {}
        self.path = new_run_dir(Path(out_root), folder_description(config))
        self.records: list[MetricRecord] = []
        self.started = time.time()
        self._last_flush = time.monotonic()
        self._num_layers = len(config.hidden) + 1
        self._records_file: io.TextIOWrapper | None = None
        try:
            self._write("config.json", json.dumps(self._config_doc(), indent=2))
            self._records_file = self._open_records()
        except RunWriteError:
            self.discard()
            raise

    def _open_records(self) -> io.TextIOWrapper:
        path = self.path / RECORDS_FILE
        try:
            return path.open("a", encoding="utf-8", newline="\n")
        except OSError as error:
            raise RunWriteError(path, error) from error

    def _config_doc(self) -> dict:
        return {
            "format": FORMAT_VERSION,
            "config": self.config.to_dict(),
            "preset": self.config.preset_name,
            "dataset": self.dataset_name,
            "data": self.data_source,
            "started": datetime.fromtimestamp(self.started).isoformat(timespec="seconds"),
            "versions": {
                "vgtui": __version__,
                "python": platform.python_version(),
                "numpy": np.__version__,
            },
            "platform": _platform(),
            "writer": {"pid": os.getpid(), "host": socket.gethostname()},
        }

    def add(self, records: Sequence[MetricRecord]) -> None:
        """Keep ``records``: appended to records.jsonl at once, whole lines in one write, so a
        reader never sees half a record; metrics.csv rewritten every couple of seconds."""
        self.records.extend(records)
        lines = "".join(map(record_line, records))
        try:
            assert self._records_file is not None
            self._records_file.write(lines)
            self._records_file.flush()
        except OSError as error:
            raise RunWriteError(self.path / RECORDS_FILE, error) from error
        if time.monotonic() - self._last_flush >= FLUSH_INTERVAL_SECONDS:
            self.flush()

    def flush(self) -> None:
        """Rewrite metrics.csv, layers.csv and activations.csv (RunWriteError if one cannot
        be: the previous one stays intact)."""
        self._write("metrics.csv", metrics_csv(self.records, self._num_layers))
        self._write("layers.csv", layers_csv(self.records))
        if any(record.activations for record in self.records):
            self._write("activations.csv", activations_csv(self.records, self.config))
        self._last_flush = time.monotonic()

    def _write(self, name: str, text: str) -> None:
        path = self.path / name
        try:
            atomic_write_text(path, text)
        except OSError as error:
            raise RunWriteError(path, error) from error

    def close(self) -> None:
        if self._records_file is not None:
            with contextlib.suppress(OSError):
                self._records_file.close()
            self._records_file = None

    def discard(self) -> None:
        """Remove the run folder of a run that recorded nothing (best effort)."""
        self.close()
        for path in self.path.iterdir() if self.path.is_dir() else ():
            path.unlink(missing_ok=True)
        with contextlib.suppress(OSError):
            self.path.rmdir()

    def finish(
        self, status: RunStatus, wall_seconds: float, iterations_done: int | None = None
    ) -> list[SetupSummary]:
        """Write the final metrics.csv and summary.json; return the per-setup summaries.
        summary.json is written even when metrics.csv cannot be; the first error is raised
        after both were tried."""
        failure: RunWriteError | None = None
        self.close()
        try:
            self.flush()
        except RunWriteError as error:
            failure = error
        summaries = summarize(self.records, self.config.setup_names)
        last_iteration = max((r.iteration for r in self.records), default=0)
        if iterations_done is not None:  # trained, which may be past the last evaluation
            last_iteration = max(last_iteration, iterations_done)
        document = {
            "status": status,
            "iterations_done": last_iteration,
            "iterations_planned": self.config.iterations,
            "wall_seconds": wall_seconds,
            "dataset": self.dataset_name,
            "seed": self.config.seed,
            "seeds": self.config.seeds,
            "seeds_vary": seeds_vary(self.config),
            "setups": [json_safe({**asdict(s), "state": s.state}) for s in summaries],
            "diagnosis": [f.to_dict() for f in diagnose(self.records, self.config.setup_names)],
            # whose records the findings read: each setup's first copy (--seed), also with
            # --seeds, where the setups' numbers above are means (older folders lack it)
            "diagnosis_seed": self.config.seed,
        }
        try:
            self._write("summary.json", json.dumps(document, indent=2))
        except RunWriteError as error:
            failure = failure or error
        if failure is not None:
            raise failure
        return summaries


def _platform() -> str:
    """The system, release and machine (``platform.platform()`` would run ``uname -p``)."""
    try:
        system = os.uname()
    except AttributeError:  # not POSIX
        return platform.system()
    return f"{system.sysname}-{system.release}-{system.machine}"
