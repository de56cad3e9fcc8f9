"""Whether the process that writes a run folder is still running, from what its config.json
says of it (``{"pid": ..., "host": ...}``): a follower waits for it only while it may still
write. Untrusted too: pid 0, -1 or 1 would name a process group, every process or init (all
"alive" to ``kill(pid, 0)``), a zombie is dead, a number reused by a later process is not the
writer, and a writer on another machine is trusted only while its folder keeps changing."""

from __future__ import annotations

import os
import socket
import time
from datetime import datetime
from pathlib import Path

FOREIGN_WRITER_SECONDS = 600.0
"""A writer on another host counts as gone when its folder has not changed for this long."""
_PID_MAX = 2**22
_START_SLACK_SECONDS = 2.0


def writer_alive(writer: object, started: str = "", folder: Path | None = None) -> bool:
    """Whether ``writer`` (config.json's ``writer``) may still be writing the run that
    ``started`` (config.json's ISO time) in ``folder``."""
    if not isinstance(writer, dict):
        return False
    pid = writer.get("pid")
    if type(pid) is not int or not 1 < pid < _PID_MAX:
        return False
    if writer.get("host") != socket.gethostname():
        return folder is not None and _changed_within(folder, FOREIGN_WRITER_SECONDS)
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process with that number: look closer
        pass
    except OSError:
        return False
    return _running_since(pid, _epoch(started))


def _changed_within(folder: Path, seconds: float) -> bool:
    latest = 0.0
    for entry in folder.iterdir():
        try:
            latest = max(latest, entry.stat().st_mtime)
        except OSError:
            continue
    return time.time() - latest < seconds


def _epoch(started: str) -> float | None:
    try:
        return datetime.fromisoformat(started).timestamp()
    except (TypeError, ValueError, OverflowError, OSError):
        return None


def _running_since(pid: int, started: float | None) -> bool:
    """Process ``pid`` is not a zombie and began before the run did (else its number was
    reused); without /proc (not Linux) it is taken as running."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        boot = next(
            float(line.split()[1])
            for line in Path("/proc/stat").read_text().splitlines()
            if line.startswith("btime ")
        )
    except (OSError, StopIteration, ValueError, IndexError):
        return True
    fields = stat.rpartition(")")[2].split()
    if not fields or fields[0] in ("Z", "X", "x"):
        return False
    if started is None or len(fields) < 20:
        return True
    began = boot + int(fields[19]) / os.sysconf("SC_CLK_TCK")
    return began <= started + _START_SLACK_SECONDS
