"""A partner's receiver for NRN webhooks: verify, deduplicate, answer 2xx quickly.

    pip install standardwebhooks
    NRN_WEBHOOK_SECRET=whsec_... python verify_webhook.py 8080

Each delivery is a POST whose body is a CloudEvent (JSON) with three headers: webhook-id (the same on
every retry of one event: deduplicate on it), webhook-timestamp and webhook-signature. The signature
is checked on the exact bytes received, before anything is parsed; a delivery older or newer than five
minutes is refused (replay protection). During a secret rotation two signatures arrive: either verifies.
"""

from __future__ import annotations

import json
import os
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks.webhooks import Webhook, WebhookVerificationError

SEEN: set[str] = set()  # use your database in production: the webhook-ids already handled


def handle(event: dict) -> None:
    print(f"{event['type']} about {event.get('subject', '-')}: {json.dumps(event['data'])[:200]}", flush=True)


def make_handler(secret: str):  # noqa: ANN201
    webhook = Webhook(secret)

    class Receiver(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            body = self.rfile.read(int(self.headers.get("content-length", 0)))
            try:
                event = webhook.verify(body, dict(self.headers.items()))
            except WebhookVerificationError:
                self.send_response(401)  # not from NRN, or too old: retried by NRN only if it was NRN
                self.end_headers()
                return
            webhook_id = self.headers["webhook-id"]
            if webhook_id not in SEEN:  # a retry of something already handled is acknowledged, not redone
                handle(event)
                SEEN.add(webhook_id)
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args) -> None:  # noqa: ANN002
            pass

    return Receiver


def main() -> None:
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 8080
    ThreadingHTTPServer(("127.0.0.1", port), make_handler(os.environ["NRN_WEBHOOK_SECRET"])).serve_forever()


if __name__ == "__main__":
    main()
