"""Signing secrets at rest: encrypted with Fernet (AES-128-CBC + HMAC-SHA256, from ``cryptography``)
under a key derived from ``SECRET_ENCRYPTION_KEY``. A copy of the database alone signs nothing."""

from __future__ import annotations

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken


class SecretBox:
    def __init__(self, key: str) -> None:
        derived = hashlib.sha256(("nrn-partners-secrets\0" + key).encode()).digest()
        self._fernet = Fernet(base64.urlsafe_b64encode(derived))

    def seal(self, secret: str) -> str:
        return self._fernet.encrypt(secret.encode()).decode()

    def open(self, sealed: str) -> str:
        try:
            return self._fernet.decrypt(sealed.encode()).decode()
        except InvalidToken:
            raise ValueError("a signing secret cannot be decrypted: SECRET_ENCRYPTION_KEY changed?") from None
