"""Where document bytes live. A local folder by default; S3 (SSE-KMS) arrives with issue #5.

Keys are always built here from the tenant context: ``tenants/<tenant_id>/documents/<id>``.
A key never comes from a request (STYLE.md section 3).
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import Protocol

from core.tenancy import require_tenant_id


class Storage(Protocol):
    def put(self, key: str, data: bytes) -> None: ...
    def get(self, key: str) -> bytes: ...
    def delete(self, key: str) -> None: ...


class LocalStorage:
    """Files under a root folder, written atomically (temp file, then rename)."""

    def __init__(self, root: Path):
        self.root = root

    def _path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if self.root.resolve() not in path.parents:
            raise ValueError("storage key escapes the storage root")
        return path

    def put(self, key: str, data: bytes) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".part")
        tmp.write_bytes(data)
        os.replace(tmp, path)

    def get(self, key: str) -> bytes:
        return self._path(key).read_bytes()

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)


_storage: Storage | None = None


def configure_storage(storage: Storage) -> None:
    """Choose the store once at start (the app factory)."""
    global _storage
    _storage = storage


def storage() -> Storage:
    if _storage is None:
        raise RuntimeError("document storage is not configured (core.storage.configure_storage)")
    return _storage


def new_document_key() -> str:
    """A fresh key inside the current tenant's prefix."""
    return f"tenants/{require_tenant_id()}/documents/{uuid.uuid4()}"
