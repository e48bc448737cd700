"""Run ASGI apps with uvicorn: in the current event loop (tests, benchmarks, `nrn up --single`), or as a
process (``python -m nrn_kit.serving module:factory``: `nrn up`, the Dockerfiles). Both use
:func:`server_config`, so every server has the edge's limits (:mod:`nrn_kit.edge`): a bounded request
head read within a deadline, idle keep-alive connections closed, a cap on concurrent connections."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator

import uvicorn


def bind_socket(host: str = "127.0.0.1", port: int = 0) -> socket.socket:
    # Binding ourselves and handing uvicorn the socket avoids the race of "find a free port, then bind".
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(512)
    sock.set_inheritable(True)
    return sock


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


@contextlib.asynccontextmanager
async def serve_app(app, *, host: str = "127.0.0.1", port: int = 0,  # noqa: ANN001
                    log_level: str = "warning", sock: socket.socket | None = None) -> AsyncIterator[str]:
    """Serve ``app`` (lifespan included) until the block exits; yields its base URL.

    Pass a socket from :func:`bind_socket` when the URL must be known before the app is built.
    """
    sock = sock or bind_socket(host, port)
    host = sock.getsockname()[0]
    actual = sock.getsockname()[1]
    server = uvicorn.Server(server_config(app, log_level=log_level, access_log=False))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        while not server.started:
            if task.done():
                task.result()  # raises the start-up error
                raise RuntimeError("server exited during start-up")
            await asyncio.sleep(0.02)
        yield f"http://{host}:{actual}"
    finally:
        server.should_exit = True
        with contextlib.suppress(Exception):
            await asyncio.wait_for(task, timeout=15)
        sock.close()


def server_config(app, *, settings=None, **options) -> uvicorn.Config:  # noqa: ANN001
    """uvicorn's configuration with the edge's limits from ``settings`` (else ``app.state.settings``,
    which the kit's and the gateway's ``create_app`` set; else the defaults)."""
    from .edge import EdgeLimits, protocol_for

    settings = settings if settings is not None else getattr(getattr(app, "state", None), "settings", None)
    limits = EdgeLimits.from_settings(settings) if settings is not None else EdgeLimits()
    options.setdefault("lifespan", "on")
    return uvicorn.Config(
        app,
        http=protocol_for(limits),
        h11_max_incomplete_event_size=limits.max_header_bytes,  # should anyone choose h11
        timeout_keep_alive=getattr(settings, "http_keep_alive_timeout", 5),
        limit_concurrency=getattr(settings, "http_limit_concurrency", None),
        **options,
    )


def main(argv: list[str] | None = None) -> None:  # pragma: no cover - process entry point
    """``python -m nrn_kit.serving module:factory [--host H] [--port P] [--proxy-headers] [--no-access-log]
    [--log-level L] [--timeout-graceful-shutdown S]``: build the app with its factory and serve it; host and port default to its settings."""
    import argparse

    from uvicorn.importer import import_from_string

    parser = argparse.ArgumentParser(prog="python -m nrn_kit.serving", description=main.__doc__)
    parser.add_argument("factory", help="module:callable returning the ASGI app (its create_app)")
    parser.add_argument("--host")
    parser.add_argument("--port", type=int)
    parser.add_argument("--proxy-headers", action="store_true", help="trust X-Forwarded-* from FORWARDED_ALLOW_IPS")
    parser.add_argument("--no-access-log", action="store_true")
    parser.add_argument("--log-level", default="info", choices=["critical", "error", "warning", "info", "debug"])
    parser.add_argument("--timeout-graceful-shutdown", type=int, help="seconds in-flight requests get on a stop")
    args = parser.parse_args(argv)
    app = import_from_string(args.factory)()
    settings = app.state.settings
    config = server_config(app, host=args.host or settings.http_host, port=args.port or settings.http_port,
                           proxy_headers=args.proxy_headers, access_log=not args.no_access_log,
                           log_level=args.log_level, timeout_graceful_shutdown=args.timeout_graceful_shutdown)
    uvicorn.Server(config).run()


if __name__ == "__main__":  # pragma: no cover
    main()
