"""A sender in its own process, for the crash test: it SIGKILLs itself right after the SMTP server
accepted its ``kill_after``-th message, before marking it sent (0: never).

    python sender_child.py MONGODB_URI DATABASE SMTP_PORT KILL_AFTER
"""

import asyncio
import os
import signal
import sys

from pymongo import AsyncMongoClient

from notifications.config import Settings
from notifications.sender import Sender


async def main(uri: str, database: str, port: int, kill_after: int) -> None:
    settings = Settings(mongodb_uri=uri, database_name=database, smtp_host="127.0.0.1", smtp_port=port,
                        sender_lease_seconds=1, sender_poll_seconds=0.05, sender_connections=4, environment="test",
                        smtp_timeout_seconds=120)
    client = AsyncMongoClient(uri, tz_aware=True)
    accepted = 0

    async def after_send(doc: dict) -> None:
        nonlocal accepted
        accepted += 1
        if accepted == kill_after:
            os.kill(os.getpid(), signal.SIGKILL)  # between the server's 250 and our mark

    sender = Sender(client[database], settings, after_send=after_send)
    await sender.run(asyncio.Event())


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])))
