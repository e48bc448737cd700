"""Run ASGI apps with uvicorn inside the current event loop (tests, benchmarks, `nrn up --single`)."""

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
    server = uvicorn.Server(uvicorn.Config(app, log_level=log_level, lifespan="on", access_log=False))
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
