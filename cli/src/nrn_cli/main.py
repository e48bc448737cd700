"""`nrn` — run the platform locally and operate it.

    nrn up [--seed]         infrastructure, every service, the relays and the gateway
    nrn status [--json]     health and restarts of each service, outbox backlog, consumer lag, dead letters
    nrn relay SERVICE       an outbox relay as its own process
    nrn dlq list TOPIC      dead letters of a topic;  nrn dlq redrive TOPIC
    nrn asyncapi [--out F]  the AsyncAPI document of every topic, event and consumer
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import json
import os
import signal
import sys
import time
from pathlib import Path

from .services import SERVICES, service_urls


def _progress(done: int, total: int, what: str) -> None:
    width = 30
    filled = int(width * done / total) if total else width
    # Padded: a shorter label must cover a longer one drawn before it on the same line.
    sys.stderr.write(f"\r{what[:48]:<48} [{'#' * filled}{'.' * (width - filled)}] {done}/{total}")
    if done >= total:
        sys.stderr.write("\n")
    sys.stderr.flush()


def _service_settings(service: str):  # noqa: ANN202
    module = importlib.import_module(f"{service}.config")
    return module.Settings()


# ---------------------------------------------------------------- up


STATUS_FILE = "run/status.json"  # under the data dir: what `nrn up` runs where, read by `nrn status`


def cmd_up(args: argparse.Namespace) -> int:
    from nrn_kit.infra import local_infra
    from nrn_kit.serving import free_port

    from .supervise import Child, StartError, Supervisor

    state_dir = Path(args.data_dir).resolve()
    logs = state_dir / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    if not _port_free(args.host, args.port):
        # Whatever answers there is not ours (an earlier `nrn up` that is still running, or anything else).
        print(f"port {args.port} on {args.host} is already in use: is another `nrn up` running? Stop it, or "
              "choose another port with --port.", file=sys.stderr)
        return 1
    ports = {s.name: s.port for s in SERVICES}
    ports["gateway"] = args.port
    for name, port in ports.items():
        if name != "gateway" and not _port_free(args.host, port):
            ports[name] = free_port(args.host)
    urls = service_urls(args.host, ports)

    def on_signal(signum, frame):  # noqa: ANN001, ARG001
        raise KeyboardInterrupt

    seed_admin = _seed_admin(state_dir) if args.seed else None

    signal.signal(signal.SIGTERM, on_signal)
    started_at = time.time()
    with local_infra(data_dir=state_dir / "infra", mail=True) as infra:
        print(f"broker   {infra.kafka_bootstrap_servers}\ndatabase {infra.mongodb_uri}", flush=True)
        print(f"mail     {infra.smtp_host}:{infra.smtp_port}"
              + ("   (development catcher: staff read it at /staff/mail/caught)" if infra.mail_dir else ""), flush=True)
        env = dict(os.environ)
        env.update({"KAFKA_BOOTSTRAP_SERVERS": infra.kafka_bootstrap_servers, "MONGODB_URI": infra.mongodb_uri,
                    "SMTP_HOST": infra.smtp_host, "SMTP_PORT": str(infra.smtp_port)})
        if infra.mail_dir is not None:
            env["CAUGHT_MAIL_DIR"] = str(infra.mail_dir)
        # Real US cities always; with --seed, also their illustrative (made-up) distress indicators.
        env.setdefault("STARTER_CITIES", "demo" if args.seed else "real")
        if seed_admin is not None:
            # Only the children get the development administrator; the caller's environment is untouched.
            env["NRN_BOOTSTRAP_ADMIN_EMAIL"], env["NRN_BOOTSTRAP_ADMIN_PASSWORD"] = seed_admin[0], seed_admin[1]
        # a partner trying webhooks on a laptop points an endpoint at a receiver on this machine
        if env.get("ENVIRONMENT", "development") != "production":
            env.setdefault("ALLOW_LOOPBACK_ENDPOINTS", "true")
        if not args.secure_cookies:
            env.setdefault("COOKIE_SECURE", "false")  # plain http on localhost
        def metrics_port(port: int) -> int:
            # the kit's default (HTTP port + 1000) when free, else any free port: a service whose HTTP
            # port was moved must not lose its scrape endpoint to a taken or impossible port
            return port + 1000 if port + 1000 <= 65535 and _port_free(args.host, port + 1000) else free_port(args.host)

        def child_of(service) -> Child:  # noqa: ANN001 — built when started: the URLs known by then
            service_env = dict(env, HTTP_HOST=args.host, HTTP_PORT=str(ports[service.name]),
                               METRICS_PORT=str(metrics_port(ports[service.name])),
                               ACCOUNTS_JWKS_URL=f"{urls['accounts']}/.well-known/jwks.json",
                               ACCOUNTS_URL=urls["accounts"], REQUESTS311_URL=urls["requests311"],
                               LIBRARY_URL=urls["library"], NOTIFICATIONS_URL=urls["notifications"],
                               ENGAGEMENTS_URL=urls["engagements"], PEER_URL=urls["peer"],
                               PARTNERS_URL=urls["partners"],
                               PUBLIC_URL=urls["gateway"])
            return Child(service.name, urls[service.name],
                         # the kit's server: uvicorn with the edge's limits (nrn_kit.edge), as in the Dockerfiles
                         [sys.executable, "-m", "nrn_kit.serving", service.factory, "--host", args.host,
                          "--port", str(ports[service.name]), "--no-access-log",
                          # In-flight requests finish on a stop, but a stuck one cannot hold it for ever.
                          "--timeout-graceful-shutdown", "15"],
                         service_env, logs / f"{service.name}.log")

        supervisor = Supervisor([], state_dir / STATUS_FILE, say=lambda text: print(text, flush=True),
                                extra_status={"started_at": started_at, "broker": infra.kafka_bootstrap_servers,
                                              "database": infra.mongodb_uri, "data_dir": str(state_dir)})
        try:
            for service in SERVICES:
                for attempt in range(3):
                    child = child_of(service)
                    supervisor.children.append(child)
                    try:
                        supervisor.start(child)
                        break
                    except StartError as exc:
                        # Another program took the port between our check and the service's bind.
                        if service.name == "gateway" or "address already in use" not in str(exc) or attempt == 2:
                            raise
                        supervisor.children.pop()
                        ports[service.name] = free_port(args.host)
                        urls.update(service_urls(args.host, ports))
                        print(f"{service.name}: its port was taken meanwhile; trying port {ports[service.name]}",
                              flush=True)
                print(f"{child.name:<14} {child.url}   (log: {child.log_path})", flush=True)
            if seed_admin is not None:
                _run_seed(urls, seed_admin, state_dir)
            print(f"\nNRN is up: open {urls['gateway']}  —  Ctrl-C stops everything; a service that stops "
                  "is started again.", flush=True)
            while True:
                supervisor.tick()
                time.sleep(0.5)
        except StartError as exc:
            print(str(exc), file=sys.stderr, flush=True)
            return 1
        except KeyboardInterrupt:
            print("\nstopping: the gateway first, then the services, then the broker and database…", flush=True)
        finally:
            # A second Ctrl-C (or a supervisor's SIGTERM) must not abandon the children half-stopped.
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
            supervisor.stop()
    print("stopped.", flush=True)
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    from .status import status

    code, text = status(Path(args.data_dir).resolve(), STATUS_FILE, as_json=args.json)
    print(text)
    return code


def _seed_admin(state_dir: Path) -> tuple[str, str, bool]:
    """The administrator the seed works as: NRN_BOOTSTRAP_ADMIN_* when set, otherwise (never in
    production) `admin@nrn.example` with a random password kept in the data dir. The flag says
    whether the password is ours to print."""
    if os.environ.get("ENVIRONMENT", "").strip().lower() == "production":
        raise SystemExit("nrn up --seed loads demo data and demo logins; it is refused with ENVIRONMENT=production")
    email = os.environ.get("NRN_BOOTSTRAP_ADMIN_EMAIL")
    password = os.environ.get("NRN_BOOTSTRAP_ADMIN_PASSWORD")
    if email and password:
        return email, password, False
    from .seed import development_admin

    email, password, _ = development_admin(state_dir, email)
    return email, password, True


def _run_seed(urls: dict[str, str], admin: tuple[str, str, bool], state_dir: Path) -> None:
    from .seed import ADMIN_FILE, SeedError, seed

    email, password, show = admin
    try:
        report = seed(urls, progress=_progress, admin_email=email, admin_password=password, show_admin_password=show)
    except SeedError as exc:
        sys.stderr.write("\n")
        print(f"{exc}\nThe platform keeps running without the rest of the demo data; "
              "`nrn up --seed` again finishes it.", file=sys.stderr, flush=True)
        return
    made = ", ".join(f"{n} {what}" for what, n in sorted(report.created.items()) if n) or "nothing new (already seeded)"
    print(f"\ndemo data: {made}", flush=True)
    for note in report.notes:
        print(f"  note: {note}", flush=True)
    print("demo logins (development only):\n" + report.logins_text(), flush=True)
    for line in report.tour:
        print(f"  look: {line}", flush=True)
    if show:
        print(f"  (the generated administrator is kept in {state_dir / ADMIN_FILE}; set NRN_BOOTSTRAP_ADMIN_EMAIL "
              "and NRN_BOOTSTRAP_ADMIN_PASSWORD to choose your own)", flush=True)


def _port_free(host: str, port: int) -> bool:
    import socket

    with socket.socket() as s:
        # As the servers bind (uvicorn sets SO_REUSEADDR): connections of a process that just died
        # linger in TIME_WAIT for a minute, and without it a restart right after a crash is refused.
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True


# ---------------------------------------------------------------- relay, dlq, asyncapi


def cmd_relay(args: argparse.Namespace) -> int:
    from nrn_kit.relay import run_standalone

    settings = _service_settings(args.service)
    try:
        asyncio.run(run_standalone(settings))
    except KeyboardInterrupt:
        pass
    return 0


def _kit_settings():  # noqa: ANN202
    from nrn_kit.settings import ServiceSettings

    return ServiceSettings(service_name="nrn-cli")


def cmd_dlq(args: argparse.Namespace) -> int:
    from nrn_kit import dlq

    settings = _kit_settings()
    if args.dlq_command == "list":
        letters = asyncio.run(dlq.list_dead_letters(settings, args.topic))
        for letter in letters:
            row = {"partition": letter.partition, "offset": letter.offset, "key": letter.key,
                   "redriven": letter.redriven, "error": letter.error,
                   "attempts": letter.headers.get("dlq.attempts"),
                   "origin": f"{letter.headers.get('dlq.origin.topic')}[{letter.headers.get('dlq.origin.partition')}]"
                             f"@{letter.headers.get('dlq.origin.offset')}",
                   "consumer": letter.headers.get("dlq.consumer")}
            print(json.dumps(row))
        print(f"{len(letters)} dead letter(s), {sum(not d.redriven for d in letters)} not redriven", file=sys.stderr)
        return 0
    count = asyncio.run(dlq.redrive(settings, args.topic, progress=lambda d, t: _progress(d, t, "redrive")))
    print(f"redrove {count} dead letter(s) to {args.topic}")
    return 0


def cmd_asyncapi(args: argparse.Namespace) -> int:
    from nrn_contracts.asyncapi import build, dumps

    text = dumps(build())
    if args.out:
        Path(args.out).write_text(text)
        print(f"wrote {args.out}")
    else:
        print(text)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="nrn", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)

    up = sub.add_parser("up", help="run the whole platform locally")
    up.add_argument("--host", default=os.environ.get("NRN_HOST", "127.0.0.1"))
    up.add_argument("--port", type=int, default=int(os.environ.get("NRN_PORT", "8000")), help="gateway port")
    up.add_argument("--data-dir", default=os.environ.get("NRN_DATA_DIR", ".nrn"), help="database files and logs")
    up.add_argument("--seed", action="store_true", help="load demo data once everything is up")
    up.add_argument("--secure-cookies", action="store_true", help="mark session cookies Secure (behind https)")
    up.set_defaults(func=cmd_up)

    st = sub.add_parser("status", help="one screen for the running platform (health, restarts, backlog, lag, dead letters)")
    st.add_argument("--data-dir", default=os.environ.get("NRN_DATA_DIR", ".nrn"), help="the data dir `nrn up` uses")
    st.add_argument("--json", action="store_true", help="for scripts: the same as one JSON document")
    st.set_defaults(func=cmd_status)

    relay = sub.add_parser("relay", help="run a service's outbox relay as its own process")
    relay.add_argument("service", choices=[s.name for s in SERVICES if s.name != "gateway"])
    relay.set_defaults(func=cmd_relay)

    dlq = sub.add_parser("dlq", help="inspect and redrive dead letters")
    dlq_sub = dlq.add_subparsers(dest="dlq_command", required=True)
    for name in ("list", "redrive"):
        p = dlq_sub.add_parser(name)
        p.add_argument("topic", help="the origin topic, e.g. nrn.requests311.v1")
    dlq.set_defaults(func=cmd_dlq)

    asyncapi = sub.add_parser("asyncapi", help="write the AsyncAPI document")
    asyncapi.add_argument("--out")
    asyncapi.set_defaults(func=cmd_asyncapi)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
