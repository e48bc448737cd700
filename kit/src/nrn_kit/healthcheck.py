"""A container's health check: ``python -m nrn_kit.healthcheck [--live | --metrics]``.

Images have no curl; this asks the process in the same container, on loopback, and exits 0 when it
answers 200, 1 otherwise (Docker's HEALTHCHECK and compose's ``condition: service_healthy`` read
the exit code):

- default: ``GET http://127.0.0.1:HTTP_PORT/health/ready`` — the service answers and its checks
  (database, relay, consumers) pass;
- ``--live``: ``GET /health/live`` — the process answers at all;
- ``--metrics``: ``GET http://127.0.0.1:METRICS_PORT/metrics`` — for a process that serves no HTTP
  API of its own, such as a standalone relay (``python -m nrn_kit.relay``).

Ports come from the service's settings (``HTTP_PORT``, ``METRICS_PORT``; see nrn_kit.settings).
"""

from __future__ import annotations

import argparse
import sys
import urllib.error
import urllib.request

from .settings import ServiceSettings

TIMEOUT_SECONDS = 3.0


def url_for(settings: ServiceSettings, what: str) -> str:
    """The loopback URL that ``what`` (``ready``, ``live`` or ``metrics``) asks."""
    if what == "metrics":
        port = settings.metrics_port or settings.http_port + 1000
        return f"http://127.0.0.1:{port}/metrics"
    return f"http://127.0.0.1:{settings.http_port}/health/{what}"


def check(url: str, timeout: float = TIMEOUT_SECONDS) -> str | None:
    """None when ``url`` answers 200 within ``timeout`` seconds, else why not (for the container log)."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 — a loopback http URL we built
            return None if response.status == 200 else f"{url} answered {response.status}"
    except urllib.error.HTTPError as exc:
        return f"{url} answered {exc.code}"
    except (OSError, ValueError) as exc:
        return f"{url}: {exc}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m nrn_kit.healthcheck", description=__doc__.splitlines()[0])
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--live", action="store_const", const="live", dest="what", help="the process answers")
    which.add_argument("--metrics", action="store_const", const="metrics", dest="what",
                       help="the metrics endpoint answers (a process without an HTTP API)")
    args = parser.parse_args(argv)
    problem = check(url_for(ServiceSettings(), args.what or "ready"))
    if problem:
        print(problem, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
