"""The local infrastructure launcher against the real embedded broker and database."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
import time
import uuid
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from pymongo import AsyncMongoClient

from nrn_kit import infra as infra_module
from nrn_kit.infra import InfraError, local_infra

pytestmark = pytest.mark.integration


@pytest.fixture(autouse=True)
def _no_configured_addresses(monkeypatch: pytest.MonkeyPatch) -> None:
    # The CI lane that runs against real Kafka exports these; these tests decide for themselves.
    monkeypatch.delenv("KAFKA_BOOTSTRAP_SERVERS", raising=False)
    monkeypatch.delenv("MONGODB_URI", raising=False)


def gone(pid: int, wait: float = 20.0) -> bool:
    """True once ``pid`` no longer runs (a zombie left for a non-reaping init counts as gone)."""
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except FileNotFoundError:
            return True
        if state == "Z":
            return True
        time.sleep(0.05)
    return False


async def test_starts_both_and_they_work_then_stops_them(tmp_path: Path) -> None:
    with local_infra(data_dir=tmp_path) as infra:
        assert infra.started == ["kafka", "mongodb"]
        assert set(infra.pids) == {"kafka", "mongodb"}

        topic = f"infra-{uuid.uuid4().hex[:8]}"
        producer = AIOKafkaProducer(bootstrap_servers=infra.kafka_bootstrap_servers)
        await producer.start()
        try:
            await producer.send_and_wait(topic, b"hello", key=b"k1")
        finally:
            await producer.stop()
        consumer = AIOKafkaConsumer(topic, bootstrap_servers=infra.kafka_bootstrap_servers,
                                    group_id=f"{topic}-g", auto_offset_reset="earliest",
                                    session_timeout_ms=1000, heartbeat_interval_ms=200)
        await consumer.start()
        try:
            record = await consumer.getone()
        finally:
            await consumer.stop()
        assert (record.key, record.value) == (b"k1", b"hello")

        client: AsyncMongoClient = AsyncMongoClient(infra.mongodb_uri)
        try:
            coll = client["infra_test"]["things"]

            async def insert(session) -> None:  # noqa: ANN001
                await coll.insert_one({"_id": "committed"}, session=session)
                await client["infra_test"]["outbox"].insert_one({"_id": "e1"}, session=session)

            async with client.start_session() as session:
                await session.with_transaction(insert)
                await session.start_transaction()
                await coll.insert_one({"_id": "aborted"}, session=session)
                await session.abort_transaction()
            assert sorted(d["_id"] for d in await coll.find().to_list()) == ["committed"]
            assert await client["infra_test"]["outbox"].count_documents({}) == 1
        finally:
            await client.close()

    assert all(gone(pid) for pid in infra.pids.values())
    assert "tansu" in (tmp_path / "broker.log").read_text()
    assert "listening" in (tmp_path / "mongodb.log").read_text()


@pytest.mark.parametrize("error", [RuntimeError, KeyboardInterrupt])
def test_an_exception_inside_the_block_still_stops_them(error: type[BaseException]) -> None:
    seen: dict = {}
    with pytest.raises(error):
        with local_infra() as infra:
            seen.update(pids=dict(infra.pids), data_dir=infra_module._live[infra.pids["mongodb"]].log_path.parent)
            raise error("boom")
    assert set(seen["pids"]) == {"kafka", "mongodb"}
    assert all(gone(pid) for pid in seen["pids"].values())
    assert not seen["data_dir"].exists()  # the temporary data dir is removed at exit
    assert not any(pid in infra_module._live for pid in seen["pids"].values())


def test_given_addresses_start_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_spawn(*args, **kwargs):  # noqa: ANN002, ANN003
        raise AssertionError("started a process although both addresses were given")

    monkeypatch.setattr(infra_module, "_spawn", no_spawn)
    with local_infra(kafka_bootstrap_servers="kafka.example:9092",
                     mongodb_uri="mongodb://db.example:27017") as infra:
        assert infra.kafka_bootstrap_servers == "kafka.example:9092"
        assert infra.mongodb_uri == "mongodb://db.example:27017"
        assert infra.started == [] and infra.pids == {}

    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", "env-kafka:9092")
    monkeypatch.setenv("MONGODB_URI", "mongodb://env-db:27017")
    with local_infra() as infra:
        assert (infra.kafka_bootstrap_servers, infra.mongodb_uri) == ("env-kafka:9092", "mongodb://env-db:27017")
        assert infra.started == []
    with local_infra(kafka_bootstrap_servers="arg-kafka:9092") as infra:  # an argument beats the env
        assert infra.kafka_bootstrap_servers == "arg-kafka:9092"


def test_only_the_missing_part_is_started(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MONGODB_URI", "mongodb://db.example:27017")
    with local_infra() as infra:
        assert infra.started == ["kafka"]
        assert infra.mongodb_uri == "mongodb://db.example:27017"
        pid = infra.pids["kafka"]
    assert gone(pid)


async def test_a_given_data_dir_keeps_the_database_across_runs(tmp_path: Path) -> None:
    for run in (1, 2):
        with local_infra(data_dir=tmp_path, kafka_bootstrap_servers="unused:9092") as infra:
            client: AsyncMongoClient = AsyncMongoClient(infra.mongodb_uri)
            try:
                runs = client["infra_test"]["runs"]
                await runs.insert_one({"run": run})
                seen = sorted(d["run"] for d in await runs.find().to_list())
            finally:
                await client.close()
        assert seen == list(range(1, run + 1))


def test_use_containers_without_a_docker_engine_is_a_clear_error(monkeypatch: pytest.MonkeyPatch,
                                                                  tmp_path: Path) -> None:
    # The docker client library is a dev requirement, so this path runs on every machine; the
    # engine itself is pointed at a socket that does not exist.
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-docker.sock")
    before = set(infra_module._live)  # the session's shared broker and database may be running
    with pytest.raises(InfraError, match="no Docker engine answers"):
        with local_infra(use_containers=True):
            pass
    assert set(infra_module._live) == before, "nothing was left running"


def test_use_containers_without_the_extra_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "docker", None)  # as if `nrn-kit[containers]` were not installed
    before = set(infra_module._live)
    with pytest.raises(InfraError, match=r"nrn-kit\[containers\]"):
        with local_infra(use_containers=True):
            pass
    assert set(infra_module._live) == before, "nothing was left running"


def fake_server(tmp_path: Path, name: str, help_flags: str, body: str) -> Path:
    script = tmp_path / name
    script.write_text(f'#!/bin/sh\nif [ "$1" = --help ]; then echo "usage: {name} {help_flags}"; exit 0; fi\n{body}\n')
    script.chmod(0o755)
    return script


def test_secantusd_rs_is_preferred_when_on_path(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # Stands in for the Rust server (not installed here) by handing its arguments to the Python one.
    secantusd_py = Path(sys.executable).with_name("secantusd-py")
    rs = fake_server(tmp_path, "secantusd-rs", "--config PATH --host --port --storage-path --sync-on-commit",
                     f'exec "{secantusd_py}" "$@"')
    real_which = shutil.which
    monkeypatch.setattr(infra_module.shutil, "which",
                        lambda name, *a, **kw: str(rs) if name == "secantusd-rs" else real_which(name, *a, **kw))

    data = tmp_path / "data"
    with local_infra(data_dir=data, kafka_bootstrap_servers="unused:9092") as infra:
        assert infra.started == ["mongodb"]
        with open(f"/proc/{infra.pids['mongodb']}/cmdline", "rb") as f:
            cmdline = f.read().split(b"\0")
        assert str(secantusd_py).encode() in cmdline[:2]  # exec'd by the fake secantusd-rs
        assert b"--sync-on-commit" in cmdline and b"--config" in cmdline and b"--standalone" not in cmdline
    assert f"{rs} --config" in (data / "mongodb.log").read_text()


def test_secantusd_rs_without_the_optional_flags_gets_none_of_them(monkeypatch: pytest.MonkeyPatch,
                                                                    tmp_path: Path) -> None:
    rs = fake_server(tmp_path, "secantusd-rs", "--host --port --storage-path", "exit 0")
    monkeypatch.setattr(infra_module.shutil, "which", lambda name, *a, **kw: str(rs) if name == "secantusd-rs" else None)
    with pytest.warns(UserWarning, match="no --sync-on-commit"):
        argv = infra_module._database_argv(tmp_path / "c.toml", tmp_path / "db")
    assert argv(1234) == [str(rs), "--host", "127.0.0.1", "--port", "1234", "--storage-path", str(tmp_path / "db")]


def test_a_server_that_exits_at_start_is_reported_with_its_log(monkeypatch: pytest.MonkeyPatch,
                                                                tmp_path: Path) -> None:
    bad = fake_server(tmp_path, "bad-db", "", 'echo "cannot open storage: disk on fire"; exit 3')
    monkeypatch.setattr(infra_module, "_database_argv", lambda config, storage: lambda port: [str(bad)])
    before = set(infra_module._live)  # the session's shared broker and database may be running
    with pytest.raises(InfraError, match=r"(?s)exited with code 3.*disk on fire"):
        with local_infra(data_dir=tmp_path / "data", kafka_bootstrap_servers="unused:9092"):
            pass
    assert set(infra_module._live) == before


def test_a_port_lost_to_another_process_is_retried_on_a_new_port(monkeypatch: pytest.MonkeyPatch,
                                                                  tmp_path: Path) -> None:
    secantusd_py = Path(sys.executable).with_name("secantusd-py")
    tries = tmp_path / "tries"
    body = (f'echo x >> {tries}\n'
            f'if [ "$(wc -l < {tries})" -eq 1 ]; then echo "OSError: [Errno 98] Address already in use"; exit 1; fi\n'
            f'exec "{secantusd_py}" "$@"')
    flaky = fake_server(tmp_path, "flaky-db", "", body)
    real_argv = infra_module._database_argv
    monkeypatch.setattr(infra_module, "_database_argv",
                        lambda config, storage: lambda port: [str(flaky), *real_argv(config, storage)(port)[1:]])
    with local_infra(data_dir=tmp_path / "data", kafka_bootstrap_servers="unused:9092") as infra:
        assert infra.started == ["mongodb"]
    assert tries.read_text().count("x") == 2


def test_a_server_that_never_answers_times_out_and_is_stopped(monkeypatch: pytest.MonkeyPatch,
                                                               tmp_path: Path) -> None:
    mute = fake_server(tmp_path, "mute-db", "", 'echo "warming up forever"; exec sleep 600')
    monkeypatch.setattr(infra_module, "_database_argv", lambda config, storage: lambda port: [str(mute)])
    monkeypatch.setattr(infra_module, "START_TIMEOUT_S", 0.5)
    spawned: list[int] = []
    real_spawn = infra_module._spawn
    monkeypatch.setattr(infra_module, "_spawn", lambda *a, **kw: spawned.append((c := real_spawn(*a, **kw)).proc.pid) or c)
    with pytest.raises(InfraError, match=r"(?s)did not answer within.*warming up forever"):
        with local_infra(data_dir=tmp_path / "data", kafka_bootstrap_servers="unused:9092"):
            pass
    assert spawned and all(gone(pid) for pid in spawned)


CHILD = textwrap.dedent("""
    import json, os, signal, sys
    from nrn_kit.infra import local_infra
    cm = local_infra(mongodb_uri="mongodb://unused:1")
    infra = cm.__enter__()  # never exited: only the guards can stop the broker
    print(json.dumps(infra.pids), flush=True)
    if sys.argv[1] == "kill":
        os.kill(os.getpid(), signal.SIGKILL)
    sys.exit(0)
""")


def run_child(how: str) -> int:
    out = subprocess.run([sys.executable, "-c", CHILD, how], capture_output=True, text=True, timeout=120,
                         env={k: v for k, v in os.environ.items() if k not in ("KAFKA_BOOTSTRAP_SERVERS",)})
    assert out.stdout, out.stderr
    return json.loads(out.stdout.splitlines()[0])["kafka"]


def test_the_atexit_guard_stops_what_a_dropped_context_left_running() -> None:
    assert gone(run_child("exit"))


@pytest.mark.skipif(not (sys.platform.startswith("linux") and shutil.which("setpriv")),
                    reason="parent-death signal needs Linux and setpriv")
def test_children_are_stopped_even_when_the_interpreter_is_killed() -> None:
    assert gone(run_child("kill"))


# --- the development mail catcher ------------------------------------------------------------


async def test_mail_true_starts_the_catcher_which_keeps_what_it_is_sent(tmp_path: Path,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    import aiosmtplib

    monkeypatch.delenv("SMTP_HOST", raising=False)
    with local_infra(data_dir=tmp_path, kafka_bootstrap_servers="unused:9092", mongodb_uri="mongodb://unused:1",
                     mail=True) as infra:
        assert infra.started == ["mail"] and infra.smtp_host == "127.0.0.1"
        assert infra.mail_dir == tmp_path / "mail"
        raw = b"From: a@x.org\r\nTo: b@y.org\r\nSubject: Hello\r\nMessage-ID: <1@x.org>\r\n\r\nBody\r\n"
        await aiosmtplib.send(raw, sender="a@x.org", recipients=["b@y.org"], hostname=infra.smtp_host,
                              port=infra.smtp_port, timeout=10)
        (caught,) = list((infra.mail_dir / "new").iterdir())
        kept = caught.read_bytes()
        assert kept.endswith(raw) and b"X-Catcher-Envelope-To: b@y.org" in kept
        pid = infra.pids["mail"]
    assert gone(pid)


def test_a_configured_smtp_host_starts_no_catcher(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SMTP_HOST", "smtp.example.org")
    monkeypatch.setenv("SMTP_PORT", "587")
    monkeypatch.setattr(infra_module, "_spawn", lambda *a, **kw: (_ for _ in ()).throw(AssertionError("spawned")))
    with local_infra(kafka_bootstrap_servers="k:9092", mongodb_uri="mongodb://m:1", mail=True) as infra:
        assert (infra.smtp_host, infra.smtp_port, infra.mail_dir, infra.started) == ("smtp.example.org", 587, None, [])
