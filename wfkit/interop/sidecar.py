"""Start Dapr's workflow engine (durabletask-go's standalone sidecar) as a local process.

The binary is built once per machine by ``.ci/build-sidecar`` (``make sidecar``) from the
Go module proxy into ``~/.cache/wfkit/sidecar/``; ``WFKIT_SIDECAR`` names another one (a
build of your own, or any engine that serves ``TaskHubSidecarService``). The process
listens on 127.0.0.1 only and keeps its state in a SQLite file (a temporary one unless
given), so nothing outside this machine can reach it.
"""

from __future__ import annotations

import os
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from wfkit.core._errors import WfkitError

SIDECAR_VERSION = "v0.14.0"
BUILD_HINT = (
    "install Go (https://go.dev/dl/) and run `make sidecar`, which builds it once into "
    "~/.cache/wfkit, or set WFKIT_SIDECAR to a durabletask-go sidecar binary"
)


class SidecarUnavailableError(WfkitError):
    """The engine binary is missing, or the process did not start listening."""


def sidecar_path() -> Path | None:
    """The engine binary to run, or None when it has not been built here."""
    given = os.environ.get("WFKIT_SIDECAR")
    if given:
        return Path(given)
    cache = Path(
        os.environ.get("WFKIT_CACHE")
        or Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "wfkit"
    )
    built = cache / "sidecar" / f"durabletask-go-{SIDECAR_VERSION}"
    return built if built.exists() else None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Sidecar:
    """A running engine process; ``address`` is what Dapr's SDK and ``wfkit`` connect to."""

    process: subprocess.Popen[bytes]
    port: int
    db: Path
    log: Path
    _tmp: tempfile.TemporaryDirectory[str] | None = field(default=None, repr=False)

    @property
    def host(self) -> str:
        return "127.0.0.1"

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    def running(self) -> bool:
        return self.process.poll() is None

    def stop(self, timeout: float = 10.0) -> None:
        if self.running():
            self.process.terminate()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout)
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def __enter__(self) -> Sidecar:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start_sidecar(
    *, port: int | None = None, db: str | os.PathLike[str] | None = None, timeout: float = 20.0
) -> Sidecar:
    """Start the engine on 127.0.0.1 and return once it accepts connections.

    Without a ``port``, a free one is picked; should another process take it before the
    engine binds it, the engine is started again on another one.
    """
    binary = sidecar_path()
    if binary is None or not binary.exists():
        raise SidecarUnavailableError(f"Dapr's workflow engine is not built here: {BUILD_HINT}")
    for attempt in range(3):
        try:
            return _start(binary, port or free_port(), db, timeout)
        except SidecarUnavailableError as error:
            if port is not None or "address already in use" not in str(error) or attempt == 2:
                raise
    raise AssertionError("unreachable")


def _answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), 0.2):
            return True
    except OSError:
        return False


def _start(binary: Path, port: int, db: str | os.PathLike[str] | None, timeout: float) -> Sidecar:
    tmp = tempfile.TemporaryDirectory(prefix="wfkit-sidecar-")
    db_path = Path(db) if db is not None else Path(tmp.name) / "engine.sqlite"
    log = Path(tmp.name) / "engine.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [str(binary), "--host", "127.0.0.1", "--port", str(port), "--db", str(db_path)],
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    sidecar = Sidecar(process, port, db_path, log, tmp)
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        text = log.read_text(errors="replace")
        if not sidecar.running() or "address already in use" in text:
            sidecar.stop()
            raise SidecarUnavailableError(f"the engine exited at start: {text[-2000:]}")
        # a port that answers may be another process's: trust it once the engine says it
        # listens (durabletask-go does), or has stayed up for a second
        says = "server listening" in text or time.monotonic() - started > 1
        if says and _answers(port):
            return sidecar
        time.sleep(0.05)
    sidecar.stop()
    raise SidecarUnavailableError(f"the engine did not listen on port {port} in {timeout} s")
