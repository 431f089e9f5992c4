"""Secrets at rest: AES-256-GCM under a key derived (HKDF-SHA256) from SECRET_KEY.

Used for identity providers' client secrets. A ciphertext names its key version, so a later
move to a KMS-held key (issue #5's production deployment) can re-encrypt without a flag day.
Tampering or a different SECRET_KEY fails loudly (:class:`DecryptionFailed`), never returns
garbage.
"""

from __future__ import annotations

import base64
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

_VERSION = "v1"
_state: dict[str, bytes] = {}


class DecryptionFailed(RuntimeError):
    """The value was altered, or was encrypted under another SECRET_KEY."""


def configure_crypto(secret_key: str) -> None:
    if not secret_key:
        raise ValueError("SECRET_KEY is required to encrypt secrets at rest")
    _state["key"] = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"sendbridge-secrets-at-rest",
                         info=b"v1").derive(secret_key.encode())


def _aead() -> AESGCM:
    key = _state.get("key")
    if key is None:
        raise RuntimeError("core.crypto is not configured (create_app calls configure_crypto)")
    return AESGCM(key)


def encrypt(plaintext: str, *, context: str) -> str:
    """``v1:<base64(nonce || ciphertext)>``. ``context`` (say, the table and row) is bound in
    as associated data: a ciphertext copied onto another row does not decrypt there."""
    nonce = os.urandom(12)
    sealed = _aead().encrypt(nonce, plaintext.encode(), context.encode())
    return f"{_VERSION}:{base64.urlsafe_b64encode(nonce + sealed).decode()}"


def decrypt(token: str, *, context: str) -> str:
    version, _, body = token.partition(":")
    if version != _VERSION or not body:
        raise DecryptionFailed("unknown secret format")
    try:
        raw = base64.urlsafe_b64decode(body.encode())
        return _aead().decrypt(raw[:12], raw[12:], context.encode()).decode()
    except (InvalidTag, ValueError) as exc:
        raise DecryptionFailed("the secret could not be decrypted") from exc
