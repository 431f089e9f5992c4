"""Creating, checking and revoking API clients."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from sqlalchemy import select

from core.api_clients.models import ApiClient
from core.db import db, utcnow
from core.errors import ValidationFailed
from core.permissions import SCOPES
from core.tenancy import require_tenant_id

_N, _R, _P = 2**14, 8, 1


def hash_secret(secret: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(secret.encode(), salt=salt, n=_N, r=_R, p=_P, dklen=32)
    return f"scrypt${_N}${_R}${_P}${salt.hex()}${digest.hex()}"


def verify_secret(secret: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
    except ValueError:
        return False
    if scheme != "scrypt":
        return False
    candidate = hashlib.scrypt(secret.encode(), salt=bytes.fromhex(salt), n=int(n), r=int(r), p=int(p), dklen=32)
    return hmac.compare_digest(candidate.hex(), digest)


def validate_scopes(raw: str) -> frozenset[str]:
    scopes = frozenset(raw.split())
    unknown = sorted(scopes - SCOPES)
    if not scopes:
        raise ValidationFailed({"scopes": ["Give at least one scope, such as children:read"]})
    if unknown:
        raise ValidationFailed({"scopes": [f"Unknown scope(s): {', '.join(unknown)}. Known: {', '.join(sorted(SCOPES))}"]})
    return scopes


def create_client(tenant_slug: str, name: str, scopes: str) -> tuple[ApiClient, str]:
    """Create a client in the current tenant; returns it and its secret (shown only once)."""
    require_tenant_id()
    if not name.strip() or len(name) > 200:
        raise ValidationFailed({"name": ["Give the client a name of 1 to 200 characters"]})
    scope_set = validate_scopes(scopes)
    secret = secrets.token_urlsafe(32)
    client = ApiClient(
        client_id=f"{tenant_slug}.{secrets.token_urlsafe(18)}",
        name=name.strip(),
        secret_hash=hash_secret(secret),
        scopes=" ".join(sorted(scope_set)),
    )
    db.session.add(client)
    db.session.flush()
    return client, secret


def find_client(client_id: str) -> ApiClient | None:
    """The active client with this id in the current tenant, if any."""
    return db.session.execute(
        select(ApiClient).where(ApiClient.client_id == client_id, ApiClient.active.is_(True))
    ).scalar_one_or_none()


def revoke_client(client: ApiClient) -> None:
    client.active = False
    client.revoked_at = utcnow()


def tenant_slug_of(client_id: str) -> str | None:
    """The tenant slug a client id names (``kent.x1y2`` -> ``kent``), or ``None``."""
    slug, sep, rest = client_id.partition(".")
    return slug if sep and slug and rest else None
