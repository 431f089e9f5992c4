"""Where document bytes live: a local folder by default, S3 with SSE-KMS in production.

Documents about children are special category personal data: in S3 each object is encrypted
under the platform's KMS key (UK GDPR Article 32(1)(a), encryption as a security measure),
and the browser only ever gets a 5-minute link made after the access check.

Keys are always built here from the tenant context: ``tenants/<tenant_id>/documents/<id>``.
A key never comes from a request (STYLE.md section 3).

A council may bring its own store through an enabled plugin implementing the
``document_store_for_tenant`` hook; :func:`storage` answers with that store inside the
council, the platform's everywhere else.

Nothing is left half-written: every ``put`` made inside a database transaction is
remembered on the session (:func:`put_in_transaction`) and deleted again if that
transaction rolls back or its commit fails, so an object never outlives the row that
would have pointed at it.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import os
import uuid
from pathlib import Path
from typing import Any, Protocol, runtime_checkable
from urllib.parse import quote

from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

from core.errors import DomainError
from core.tenancy import require_tenant_id

log = logging.getLogger(__name__)

#: How long a presigned download link works. Short: the link is a bearer credential for a
#: child's document, and it is made only after the access check (issue #5 item 4).
PRESIGNED_SECONDS = 300


class StorageUnavailable(DomainError):
    """The document store cannot be reached (endpoint down, timeout, refused credentials).

    Pages say the document is unavailable; the API answers 503. Nothing was written."""

    def __init__(self, message: str = "document storage is unavailable"):
        super().__init__(message)


class Storage(Protocol):
    def put(self, key: str, data: bytes) -> None: ...
    def get(self, key: str) -> bytes: ...
    def delete(self, key: str) -> None: ...


@runtime_checkable
class PresigningStorage(Storage, Protocol):
    """A store the browser can fetch from directly, with a short-lived signed link."""

    def presigned_download(self, key: str, filename: str, content_type: str) -> str: ...


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


def attachment_disposition(filename: str, *, extended: bool = False) -> str:
    """``Content-Disposition`` for a download: always an attachment, never inline (an uploaded
    file rendered by the browser could run script in our origin). RFC 6266 / RFC 8187: a plain
    ASCII ``filename`` for old clients and the exact name as ``filename*`` (always with
    ``extended``; otherwise only when the two differ)."""
    fallback = "".join(c for c in filename if c.isascii() and c.isprintable() and c not in '"\\;') or "document"
    if fallback == filename and not extended:
        return f'attachment; filename="{filename}"'
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


class S3Storage:
    """Objects in one S3 bucket, encrypted with the council platform's KMS key (SSE-KMS).

    Every call has short connect and read timeouts and few retries: a page waiting on a
    dead endpoint must fail fast with :class:`StorageUnavailable`, not hang a worker.
    """

    def __init__(self, bucket: str, *, kms_key_id: str, region: str = "eu-west-2", endpoint_url: str | None = None,
                 path_style: bool = False, connect_timeout: float = 2.0, read_timeout: float = 10.0,
                 max_attempts: int = 2, client: Any = None, **credentials: Any):
        if not kms_key_id:
            raise ValueError("S3Storage needs a KMS key: documents are personal data and are encrypted with SSE-KMS")
        self.bucket = bucket
        self.kms_key_id = kms_key_id
        if client is None:
            import boto3
            from botocore.config import Config

            config = Config(
                signature_version="s3v4", region_name=region,
                connect_timeout=connect_timeout, read_timeout=read_timeout,
                retries={"max_attempts": max_attempts, "mode": "standard"},
                s3={"addressing_style": "path" if path_style else "virtual"},
            )
            client = boto3.client("s3", endpoint_url=endpoint_url, config=config, **credentials)
        self.client = client

    def _unavailable(self, exc: Exception, what: str) -> StorageUnavailable:
        log.warning("document storage %s failed: %s", what, exc)
        return StorageUnavailable(f"document storage is unavailable ({what}: {type(exc).__name__})")

    def put(self, key: str, data: bytes) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        digest = base64.b64encode(hashlib.sha256(data).digest()).decode()
        try:
            answer = self.client.put_object(
                Bucket=self.bucket, Key=key, Body=data, ServerSideEncryption="aws:kms", SSEKMSKeyId=self.kms_key_id,
                # S3 refuses the object (BadDigest) unless the bytes it received have this hash.
                ChecksumSHA256=digest,
            )
        except (BotoCoreError, ClientError) as exc:
            raise self._unavailable(exc, "put") from exc
        echoed = answer.get("ChecksumSHA256")
        if echoed is not None and echoed != digest:  # pragma: no cover - S3 refuses such a put itself
            self.delete(key)
            raise StorageUnavailable("document storage stored different bytes than were sent")
        if answer.get("ServerSideEncryption") not in (None, "aws:kms"):
            self.delete(key)
            raise StorageUnavailable("document storage did not encrypt the document with the KMS key")

    def get(self, key: str) -> bytes:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            answer = self.client.get_object(Bucket=self.bucket, Key=key)
            return bytes(answer["Body"].read())
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                raise FileNotFoundError(key) from exc
            raise self._unavailable(exc, "get") from exc
        except BotoCoreError as exc:
            raise self._unavailable(exc, "get") from exc

    def delete(self, key: str) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            self.client.delete_object(Bucket=self.bucket, Key=key)
        except (BotoCoreError, ClientError) as exc:
            raise self._unavailable(exc, "delete") from exc

    def presigned_download(self, key: str, filename: str, content_type: str) -> str:
        """A link that downloads the object for :data:`PRESIGNED_SECONDS`, as an attachment of
        the stored type whatever the object's own metadata says.

        Asks S3 first whether the object is there (one HEAD): a dead endpoint or a missing
        object becomes our "unavailable" page, not an S3 error page in the user's browser.
        """
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            self.client.head_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                raise FileNotFoundError(key) from exc
            raise self._unavailable(exc, "head") from exc
        except BotoCoreError as exc:
            raise self._unavailable(exc, "head") from exc
        return str(self.client.generate_presigned_url(
            "get_object",
            Params={"Bucket": self.bucket, "Key": key, "ResponseContentDisposition": attachment_disposition(filename, extended=True),
                    "ResponseContentType": content_type},
            ExpiresIn=PRESIGNED_SECONDS,
        ))


class _PluginStore:
    """A council's own store (from a plugin), with its failures turned into
    :class:`StorageUnavailable`: one plugin's fault never becomes a 500 (STYLE.md section 4)."""

    def __init__(self, plugin_store: Any):
        self.inner = plugin_store

    def _call(self, what: str, *args: Any) -> Any:
        try:
            return getattr(self.inner, what)(*args)
        except (StorageUnavailable, FileNotFoundError):
            raise
        except Exception as exc:
            log.warning("the council's document store failed (%s): %s", what, exc)
            raise StorageUnavailable(f"the council's document store is unavailable ({what})") from exc

    def put(self, key: str, data: bytes) -> None:
        self._call("put", key, data)

    def get(self, key: str) -> bytes:
        return bytes(self._call("get", key))

    def delete(self, key: str) -> None:
        self._call("delete", key)

    def __getattr__(self, name: str) -> Any:
        # Only presigned_download is passed through, and only if the plugin's store has it.
        if name == "presigned_download" and hasattr(self.inner, name):
            return lambda key, filename, content_type: str(self._call(name, key, filename, content_type))
        raise AttributeError(name)


_storage: Storage | None = None
_HOOK = "document_store_for_tenant"


def configure_storage(storage: Storage) -> None:
    """Choose the platform's store once at start (the app factory)."""
    global _storage
    _storage = storage


def platform_storage() -> Storage:
    if _storage is None:
        raise RuntimeError("document storage is not configured (core.storage.configure_storage)")
    return _storage


def storage() -> Storage:
    """The store for the current council: its own (an enabled plugin's
    ``document_store_for_tenant``) if it has one, else the platform's."""
    store = _tenant_store()
    return store if store is not None else platform_storage()


def _tenant_store() -> Storage | None:
    # Imported here: core.plugins imports the models, which import this module's callers.
    from core.plugins.manager import host, implementers
    from core.tenancy import current_tenant_id

    # The common case (no loaded plugin offers stores) costs no query.
    if current_tenant_id() is None or not implementers(_HOOK, host().plugins):
        return None
    from core.plugins.services import call_enabled

    try:
        answer = call_enabled(_HOOK)
    except Exception as exc:
        # Falling back to the platform's store would put a council's documents where it
        # chose not to keep them: refuse instead.
        log.warning("document_store_for_tenant failed: %s", exc)
        raise StorageUnavailable("the council's document store could not be set up") from exc
    return _PluginStore(answer) if answer is not None else None


def supports_presigning(store: Storage) -> bool:
    return callable(getattr(store, "presigned_download", None))


def new_document_key() -> str:
    """A fresh key inside the current tenant's prefix."""
    return f"tenants/{require_tenant_id()}/documents/{uuid.uuid4()}"


# ---------------------------------------------------------------------------------------
# Nothing half-written: objects follow their transaction

_WRITTEN = "sendbridge_storage_written"


def put_in_transaction(session: Session, store: Storage, key: str, data: bytes) -> None:
    """``store.put`` whose object is deleted again if ``session``'s transaction does not commit.

    Call it before adding the row that points at the object: a failed put then raises
    before anything is written to the database, and a failed commit (or any rollback)
    afterwards removes the object (the after_rollback / transaction-end hooks below).
    """
    if not session.in_transaction():
        # The object must belong to a transaction whose end we will see (a put followed by
        # an error before the first query would otherwise be forgotten with the session).
        session.begin()
    store.put(key, data)
    session.info.setdefault(_WRITTEN, []).append((store, key))


@event.listens_for(Session, "after_commit")
def _keep_written(session: Session) -> None:
    # As core.jobs: a released SAVEPOINT is not the commit that makes the row durable.
    if session.in_nested_transaction():
        return
    session.info.pop(_WRITTEN, None)


@event.listens_for(Session, "after_rollback")
def _delete_written_on_rollback(session: Session) -> None:
    if session.in_nested_transaction():
        return
    _delete_orphans(session)


@event.listens_for(Session, "after_transaction_end")
def _delete_written_on_close(session: Session, transaction: SessionTransaction) -> None:
    # A session closed without commit (a failed COMMIT, then ``session.remove()``) ends its
    # outermost transaction without always firing after_rollback: clean up here too.
    if transaction.parent is None and not transaction.nested:
        _delete_orphans(session)


def _delete_orphans(session: Session) -> None:
    for store, key in session.info.pop(_WRITTEN, []):
        try:
            store.delete(key)
        except Exception:
            # The row was never committed, so nothing points at the object; it is unreadable
            # garbage under the council's prefix. Say so loudly for the operator to sweep.
            log.exception("could not delete orphan document object %s after a rollback", key)
