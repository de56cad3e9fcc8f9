"""The Dask side of ``vgtui sweep``: reaching a scheduler in bounded time, starting and closing
the embedded cluster, and keeping Dask's own log lines and shutdown noise off the terminal.

Why an address is checked and probed before a Client is made: distributed's Client waits
without bound for a server that accepts the connection but never answers Dask's handshake
(a port of another program), takes its own time over a name that is no address, and leaves
an ``Exception ignored in Client.__del__`` when it fails half-built. Here an address that is
not ``tcp://HOST:PORT`` or ``tls://HOST:PORT`` is refused at once, and the handshake is tried
first (``distributed.comm.connect``) under one deadline, so every unreachable or wrong
scheduler is one line within a few seconds. Dask is imported only when a sweep connects.
"""

from __future__ import annotations

import contextlib
import ipaddress
import logging
import os
import platform
import re
import signal
from collections.abc import Iterator

from vgtui.cli.latch import Interrupted

CONNECT_TIMEOUT_SECONDS = 3.0
"""How long a sweep waits for a scheduler to answer, unless --connect-timeout says otherwise:
long enough for a scheduler on the network, short enough that a wrong address is soon said."""
CLOSE_TIMEOUT_SECONDS = 10
SCHEMES = ("tcp", "tls")
"""The transports a sweep reaches a scheduler by (inproc is in-process only, ucx needs its own
build, ws/http are no scheduler address)."""
MAX_HOST = 253
CLIENT_CONNECTED = frozenset({"running"})
"""Dask's word for a client connected to its scheduler (Dask's vocabulary, not vgtui's)."""
HOST_LABEL = re.compile(r"(?!-)[A-Za-z0-9-]{1,63}(?<!-)")


class SchedulerError(OSError):
    """No Dask scheduler can be used at the given address; the message is the one line."""


def scheduler_address(text: str) -> str:
    """``text`` as a scheduler address (``HOST:PORT`` means ``tcp://HOST:PORT``), or
    SchedulerError saying why it is not one."""
    text = text.strip()
    usage = "a Dask scheduler address is tcp://HOST:PORT (or tls://HOST:PORT)"
    if not text:
        raise SchedulerError(f"no scheduler address given: {usage}")
    scheme, separator, rest = text.partition("://")
    if not separator:
        scheme, rest = "tcp", text
    if scheme not in SCHEMES:
        raise SchedulerError(f"cannot use the scheduler address {text!r}: {usage}")
    host, colon, port = rest.rpartition(":")
    bare = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    if not colon or not _is_host(bare) or not _is_port(port):
        raise SchedulerError(f"not a scheduler address: {text!r}: {usage}")
    return f"{scheme}://{rest}"


def _is_host(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
        return True
    except ValueError:
        pass
    labels = host.rstrip(".").split(".")
    return 0 < len(host) <= MAX_HOST and all(HOST_LABEL.fullmatch(label) for label in labels)


def _is_port(port: str) -> bool:
    return port.isascii() and port.isdigit() and 0 < int(port) < 65536


class SchedulerLost(Exception):
    """The scheduler went away mid-sweep (killed, stopped, the network down)."""

    def __init__(self, client) -> None:
        super().__init__()
        self.address = getattr(client.scheduler, "address", None) or "?"


def lost_scheduler(client, error: BaseException) -> bool:
    """Whether ``error`` (of a future, or of a submission) means the scheduler is gone."""
    reason = getattr(error, "reason", None)
    return reason == "scheduler-connection-lost" or client.status not in CLIENT_CONNECTED


def submit(client, *args, **kwargs):
    """``client.submit``; SchedulerLost if the scheduler is gone already."""
    try:
        return client.submit(*args, **kwargs)
    except Exception as error:
        if lost_scheduler(client, error):
            raise SchedulerLost(client) from None
        raise


def pin_processor() -> None:
    """Dask reports ``platform.uname().processor``, which Python finds by running ``uname -p``
    found through $PATH (any program called ``uname`` first in it): set it once, to what the
    kernel says the machine is, so that no program is run for it."""
    with contextlib.suppress(AttributeError, TypeError):
        platform.uname().processor = os.uname().machine  # type: ignore[misc]


def dask_setup(worker) -> None:
    """Run by each worker of the embedded cluster as it starts (Dask's preload), before it
    reports its versions to the scheduler."""
    pin_processor()


def quiet_dask() -> None:
    """Dask's own log lines (a worker restarting, a closed stream at shutdown, a lost
    scheduler) would bury the sweep's lines, which say all of it: off below critical. Set in
    the environment too, so that the worker processes the embedded cluster spawns inherit it."""
    pin_processor()
    os.environ.setdefault("DASK_LOGGING__DISTRIBUTED", "critical")
    for name in ["distributed", "tornado", "asyncio", *logging.root.manager.loggerDict]:
        if name.split(".")[0] in ("distributed", "tornado", "asyncio"):
            logging.getLogger(name).setLevel(logging.CRITICAL)


def probe(address: str, timeout: float = CONNECT_TIMEOUT_SECONDS) -> None:
    """SchedulerError unless a Dask server answers Dask's handshake at ``address`` within
    ``timeout`` seconds (with the TLS settings of Dask's configuration)."""
    import asyncio

    from distributed.comm import connect
    from distributed.security import Security

    async def handshake() -> None:
        arguments = Security().get_connection_args("client")
        comm = await connect(address, timeout=timeout, **arguments)
        await comm.close()

    async def bounded() -> None:
        await asyncio.wait_for(handshake(), timeout + 1)

    try:
        asyncio.run(bounded())
    except TimeoutError:
        raise SchedulerError(
            f"cannot reach the Dask scheduler at {address}: no Dask answer within "
            f"{timeout:g} s (is it a Dask scheduler's address?)"
        ) from None
    except OSError as error:
        raise unreachable(address, error) from None
    except Exception:  # it answered, but not Dask's handshake (a huge length, a bad frame)
        raise SchedulerError(
            f"cannot use {address}: it answers, but not as a Dask scheduler"
        ) from None


def connect(address: str | None, workers: int | None, timeout: float = CONNECT_TIMEOUT_SECONDS):
    """A Dask client and the embedded cluster it owns (None with an address). Raises
    SchedulerError when the scheduler cannot be used, within about ``timeout`` seconds."""
    quiet_dask()
    if address is not None:
        address = scheduler_address(address)
        probe(address, timeout)
    from distributed import Client, LocalCluster

    quiet_dask()  # again: importing distributed set its own loggers' levels
    if address is not None:
        try:
            client = Client(address, timeout=f"{timeout}s", set_as_default=False)
        except Exception as error:
            raise unreachable(address, error) from None
        return client, None
    import dask

    dask.config.set({"distributed.worker.preload": [__name__]})  # dask_setup, in each worker
    cluster = LocalCluster(
        n_workers=workers or os.cpu_count() or 1,
        threads_per_worker=1,
        processes=True,
        dashboard_address=None,
        silence_logs=logging.CRITICAL,
    )
    try:
        client = Client(cluster, set_as_default=False)
    except BaseException:
        close(None, cluster)
        raise
    quiet_dask()
    return client, cluster


STOP_SIGNALS = ("SIGINT", "SIGTERM", "SIGHUP")


@contextlib.contextmanager
def held_signals() -> Iterator[list[int]]:
    """SIGINT, SIGTERM and SIGHUP remembered in the list yielded, not raised, for the time
    of the block: an interrupt inside distributed while a cluster starts or stops leaves a
    half-built cluster, which distributed's exit hook then fails to close, with a traceback.
    Outside the main thread signals cannot be set: nothing is held."""
    held: list[int] = []
    previous = {}
    try:
        for name in STOP_SIGNALS:
            if hasattr(signal, name):
                number = getattr(signal, name)
                previous[number] = signal.signal(number, lambda signum, frame: held.append(signum))
    except ValueError:  # not the main thread
        pass
    try:
        yield held
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


class DaskSession:
    """The client of one sweep and the embedded cluster it owns: started and closed with the
    stop signals held (they take effect once it is done), closed within a bounded time."""

    def __init__(self) -> None:
        self.client = None
        self.cluster = None

    def connect(self, address: str | None, workers: int | None,
                timeout: float = CONNECT_TIMEOUT_SECONDS):  # fmt: skip
        """The client (see :func:`connect`); Interrupted if a stop signal came meanwhile."""
        with held_signals() as held:
            self.client, self.cluster = connect(address, workers, timeout)
        if held:
            raise Interrupted(held[0])
        return self.client

    def close(self) -> int | None:
        """Close it all; the stop signal that came meanwhile, if one did."""
        with held_signals() as held:
            close(self.client, self.cluster)
            self.client = self.cluster = None
        return held[0] if held else None


def unreachable(address: str, error: BaseException) -> SchedulerError:
    said = " ".join(str(error).split()) or type(error).__name__
    return SchedulerError(f"cannot reach the Dask scheduler at {address}: {said}")


def close(client, cluster) -> None:
    """Close the client and the embedded cluster, quietly and within a bounded time."""
    if client is not None:
        with contextlib.suppress(Exception):
            client.close(timeout=CLOSE_TIMEOUT_SECONDS)
    if cluster is not None:
        with contextlib.suppress(Exception):
            cluster.close(timeout=CLOSE_TIMEOUT_SECONDS)


__all__ = [
    "CONNECT_TIMEOUT_SECONDS",
    "DaskSession",
    "SchedulerError",
    "SchedulerLost",
    "close",
    "connect",
    "lost_scheduler",
    "probe",
    "quiet_dask",
    "scheduler_address",
    "submit",
    "held_signals",
]
