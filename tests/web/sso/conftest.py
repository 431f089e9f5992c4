"""Fixtures for the single sign-on tests: the real OpenID Connect provider (two issuers),
providers registered in councils through the real services, and a helper that signs in
through the provider's login form with the Flask test client."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import text

from core.db import db
from tenants import identity_providers as idps
from tests.conftest import csrf_token, in_tenant
from tests.oidc_provider import Issuer, OidcProvider, OpAgent, local, meta_refresh, oidc_provider  # noqa: F401

#: A council directory's groups -> staff roles.
STAFF_MAPPING = {"claim": "groups", "roles": {"send-caseworkers": "caseworker", "send-managers": "team_manager"}}
#: A school's provider: who is a SENCO, and for which of its URNs.
SCHOOL_MAPPING = {"senco_claim": "roles", "senco_values": ["SENCO"], "urn_claim": "urn"}


@pytest.fixture
def council_idp(app: Any, oidc_provider: OidcProvider) -> Callable[..., uuid.UUID]:
    """``council_idp(tenant, issuer, client_id, purpose="staff", ...)``: a council provider,
    registered through the service in the test's transaction; returns its id."""

    def make(tenant: Any, issuer: Issuer, client_id: str = "staff", *, purpose: str = "staff",
             mapping: dict[str, Any] | None = None, auth: idps.ClientAuth | None = None,
             name: str | None = None, registered_issuer: str | None = None) -> uuid.UUID:
        if auth is None:
            auth = idps.ClientAuth(method=idps.CLIENT_SECRET_BASIC, secret=oidc_provider.secret(issuer, client_id))
        with in_tenant(tenant):
            provider = idps.register_council_provider(
                purpose=purpose, name=name or f"Test {purpose} sign-in {issuer.name}",
                issuer=registered_issuer or issuer.url, client_id=client_id, auth=auth,
                claim_mapping=(mapping if mapping is not None else (STAFF_MAPPING if purpose == "staff" else {})),
                production=False)
            return provider.id

    return make


@pytest.fixture
def org_idp(app: Any, oidc_provider: OidcProvider, institution: int, owner_engine: Any,
            request: pytest.FixtureRequest) -> Callable[..., str]:
    """``org_idp(issuer, urns=[institution])``: a school's provider, registered for the whole
    platform by the owner (as operators do), committed, and removed after the test."""
    made: list[str] = []

    def remove() -> None:
        with owner_engine.begin() as conn:
            for slug in made:
                conn.execute(text("DELETE FROM organisation_identity_provider WHERE slug = :s"), {"s": slug})

    request.node.after_rollback.append(remove)

    def make(issuer: Issuer, client_id: str = "school", *, urns: list[int] | None = None,
             mapping: dict[str, Any] | None = None) -> str:
        slug = f"school-{uuid.uuid4().hex[:8]}"
        made.append(slug)
        with db.as_owner() as session:
            idps.register_organisation_provider(
                slug=slug, name="Test Primary School", issuer=issuer.url, client_id=client_id,
                auth=idps.ClientAuth(method=idps.CLIENT_SECRET_BASIC, secret=oidc_provider.secret(issuer, client_id)),
                urns=urns or [institution], claim_mapping=mapping or SCHOOL_MAPPING, production=False)
            session.commit()
        return slug

    return make


def start(client: Any, path: str, *, post: bool = False) -> str:
    """Start a sign-in; returns the authorization request's URL (at the provider)."""
    if post:
        resp = client.post(path, data={"csrf_token": csrf_token(client, "/portal/sign-in")})
        assert resp.status_code == 200, resp.get_data(as_text=True)
        return meta_refresh(resp.get_data(as_text=True))
    resp = client.get(path)
    assert resp.status_code == 302, resp.get_data(as_text=True)
    return str(resp.headers["Location"])


def sso_sign_in(client: Any, path: str, login: str, *, agent: OpAgent | None = None, post: bool = False) -> Any:
    """Start at ``path``, sign in at the provider as ``login``, come back: the callback's response."""
    callback = (agent or OpAgent()).authorize(start(client, path, post=post), login)
    return client.get(local(callback))


def reason(resp: Any) -> str | None:
    """The reason code a refusal page shows (for support), or None."""
    import re

    m = re.search(r'quote reason <span class="app-reference">([a-z_]+)</span>', resp.get_data(as_text=True))
    return m.group(1) if m else None
