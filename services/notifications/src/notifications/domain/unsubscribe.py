"""Unsubscribe links: a signed token naming one person and one kind of notice.

The token is the credential (a mail client's one-click POST carries nothing else, RFC 8058), so
it is an HMAC-SHA256 over the person and the kind with ``UNSUBSCRIBE_SECRET``. It does not expire:
a link in an old message must still work. Account and security kinds have no token.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json


class BadToken(ValueError):
    """The token was not issued by us (altered, truncated, or signed with another secret)."""


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _sign(secret: str, payload: str) -> str:
    return _b64(hmac.new(secret.encode(), b"unsubscribe:" + payload.encode(), hashlib.sha256).digest())


def make_token(secret: str, person_id: str, kind: str) -> str:
    payload = _b64(json.dumps([person_id, kind], separators=(",", ":")).encode())
    return f"{payload}.{_sign(secret, payload)}"


def read_token(secret: str, token: str) -> tuple[str, str]:
    """(person id, kind) of a token we issued; BadToken otherwise."""
    if not isinstance(token, str) or len(token) > 1_000 or token.count(".") != 1:
        raise BadToken("not an unsubscribe token")
    payload, signature = token.split(".")
    if not hmac.compare_digest(_sign(secret, payload), signature):
        raise BadToken("the unsubscribe link is not valid")
    try:
        person_id, kind = json.loads(_unb64(payload))
    except (ValueError, TypeError) as exc:
        raise BadToken("not an unsubscribe token") from exc
    if not isinstance(person_id, str) or not isinstance(kind, str):
        raise BadToken("not an unsubscribe token")
    return person_id, kind
