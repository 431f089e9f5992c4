"""The identity provider registry (tenants/identity_providers.py): validation, claim mapping,
secrets sealed at rest, discovery against the real provider."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from sqlalchemy import text

from core import crypto
from core.errors import Conflict, ValidationFailed
from core.users.models import Role
from tenants import identity_providers as idps
from tenants.models import OrganisationIdentityProvider
from tests.conftest import in_tenant
from tests.web.sso.conftest import SCHOOL_MAPPING, STAFF_MAPPING

SECRET = "s3cret-value-that-must-never-be-stored-in-clear"


def _basic(secret: str = SECRET) -> idps.ClientAuth:
    return idps.ClientAuth(method=idps.CLIENT_SECRET_BASIC, secret=secret)


@pytest.mark.parametrize(("issuer", "production", "ok"), [
    ("https://login.microsoftonline.com/abc/v2.0", True, True),
    ("https://oidc.account.gov.uk/", True, True),
    ("http://127.0.0.1:9090", False, True),
    ("http://localhost:9090", False, True),
    ("http://127.0.0.1:9090", True, False),
    ("http://idp.example.com", False, False),
    ("https://idp.example.com/?tenant=1", False, False),
    ("https://idp.example.com/#x", False, False),
    ("ftp://idp.example.com", False, False),
    ("idp.example.com", False, False),
    ("", False, False),
])
def test_issuers_must_be_https_but_for_loopback_outside_production(issuer: str, production: bool, ok: bool) -> None:
    if ok:
        assert idps.check_issuer(issuer, production=production) == issuer
    else:
        with pytest.raises(ValidationFailed) as exc:
            idps.check_issuer(issuer, production=production)
        assert "issuer" in exc.value.errors


@pytest.mark.parametrize(("kind", "mapping", "bad_key"), [
    ("staff", {**STAFF_MAPPING, "extra": 1}, "claim_mapping.extra"),
    ("staff", {"claim": "groups", "roles": {"x": "superuser"}}, "claim_mapping.roles"),
    ("staff", {"claim": "groups", "roles": {}}, "claim_mapping.roles"),
    ("staff", {"roles": {"x": "caseworker"}}, "claim_mapping.claim"),
    ("staff", {"claim": "bad claim!", "roles": {"x": "caseworker"}}, "claim_mapping.claim"),
    ("public", {"claim": "groups"}, "claim_mapping.claim"),
    ("organisation", {"senco_claim": "roles"}, "claim_mapping.senco_values"),
    ("organisation", {**SCHOOL_MAPPING, "urn_claim": 7}, "claim_mapping.urn_claim"),
    ("organisation", {**SCHOOL_MAPPING, "roles": {}}, "claim_mapping.roles"),
])
def test_claim_mappings_follow_their_schema_and_refuse_unknown_keys(kind: str, mapping: Any, bad_key: str) -> None:
    with pytest.raises(ValidationFailed) as exc:
        idps.check_claim_mapping(kind, mapping)
    assert bad_key in exc.value.errors


def test_good_claim_mappings_are_accepted() -> None:
    assert idps.check_claim_mapping("staff", STAFF_MAPPING) == STAFF_MAPPING
    assert idps.check_claim_mapping("public", {}) == {}
    assert idps.check_claim_mapping("organisation", SCHOOL_MAPPING) == SCHOOL_MAPPING


def test_claims_map_to_the_highest_staff_role_or_none() -> None:
    mapping = {"claim": "groups", "roles": {"readers": "send_officer", "admins": "tenant_admin", "team": "caseworker"}}
    assert idps.staff_role_for(mapping, {"groups": ["team", "readers"]}) == Role.CASEWORKER
    assert idps.staff_role_for(mapping, {"groups": ["readers", "admins"]}) == Role.TENANT_ADMIN
    assert idps.staff_role_for(mapping, {"groups": "readers"}) == Role.SEND_OFFICER
    assert idps.staff_role_for(mapping, {"groups": ["finance"]}) is None
    assert idps.staff_role_for(mapping, {}) is None


def test_school_claims_say_who_is_a_senco_and_for_which_urns() -> None:
    org = OrganisationIdentityProvider(urns=[900001, 900002], claim_mapping=SCHOOL_MAPPING)
    assert idps.senco_urns(org, {"roles": ["SENCO"], "urn": "900002"}) == [900002]
    assert idps.senco_urns(org, {"roles": ["SENCO"], "urn": ["900001", "900002", "123456"]}) == [900001, 900002]
    assert idps.senco_urns(org, {"roles": ["SENCO"], "urn": "123456"}) == []  # not one of the provider's
    assert idps.senco_urns(org, {"roles": ["Teacher"], "urn": "900001"}) is None
    wide = OrganisationIdentityProvider(urns=[900001, 900002], claim_mapping={"senco_claim": "roles",
                                                                              "senco_values": ["SENCO"]})
    assert idps.senco_urns(wide, {"roles": "SENCO"}) == [900001, 900002]


def test_client_secrets_are_sealed_at_rest_and_bound_to_their_row(tenant_a: Any, oidc_provider: Any) -> None:
    with in_tenant(tenant_a) as s:
        one = idps.register_council_provider(purpose="staff", name="One", issuer=oidc_provider.a.url, client_id="c1",
                                             auth=_basic(), claim_mapping=STAFF_MAPPING, production=False)
        two = idps.register_council_provider(purpose="staff", name="Two", issuer=oidc_provider.b.url, client_id="c2",
                                             auth=_basic("another-secret-value"), claim_mapping=STAFF_MAPPING,
                                             production=False)
        stored = s.execute(text("SELECT client_secret_encrypted FROM council_identity_provider WHERE id = :i"),
                           {"i": one.id}).scalar_one()
        assert SECRET not in stored and base64.b64encode(SECRET.encode()).decode()[:20] not in stored
        assert stored.startswith("v1:")
        assert idps.client_auth(one) == _basic() and idps.client_secret(one) == SECRET
        # Copied onto another row, the sealed secret does not open there.
        two.client_secret_encrypted = stored
        with pytest.raises(crypto.DecryptionFailed):
            idps.client_auth(two)


def test_a_private_key_is_sealed_and_only_its_public_half_is_shown(tenant_a: Any, oidc_provider: Any) -> None:
    pem = idps.generate_private_key()
    auth = idps.ClientAuth(method=idps.PRIVATE_KEY_JWT, private_key_pem=pem)
    with in_tenant(tenant_a) as s:
        provider = idps.register_council_provider(purpose="public", name="GOV.UK One Login", issuer=oidc_provider.a.url,
                                                  client_id="pkjwt", auth=auth, production=False)
        stored = s.execute(text("SELECT client_secret_encrypted FROM council_identity_provider WHERE id = :i"),
                           {"i": provider.id}).scalar_one()
        assert "PRIVATE KEY" not in stored and pem.splitlines()[1] not in stored
        assert idps.client_auth(provider).private_key_pem == pem
    jwk = auth.public_jwk()
    assert jwk is not None and "d" not in jwk and jwk["alg"] == "ES256" and jwk["kid"] == auth.key_id


@pytest.mark.parametrize(("auth", "field"), [
    (idps.ClientAuth(method=idps.CLIENT_SECRET_BASIC, secret=""), "client_secret"),
    (idps.ClientAuth(method=idps.PRIVATE_KEY_JWT), "private_key"),
    (idps.ClientAuth(method=idps.PRIVATE_KEY_JWT, private_key_pem="-----BEGIN NONSENSE-----"), "private_key"),
    (idps.ClientAuth(method="client_secret_post", secret="x"), "auth_method"),
])
def test_unusable_credentials_are_refused(auth: idps.ClientAuth, field: str) -> None:
    with pytest.raises(ValidationFailed) as exc:
        idps.check_client_auth(auth)
    assert field in exc.value.errors


def test_an_rsa_key_is_refused_for_private_key_jwt() -> None:
    from joserfc.jwk import RSAKey

    pem = RSAKey.generate_key(2048, private=True).as_pem(private=True).decode()
    with pytest.raises(ValidationFailed):
        idps.check_client_auth(idps.ClientAuth(method=idps.PRIVATE_KEY_JWT, private_key_pem=pem))


def test_registering_refuses_bad_input_and_duplicates_and_creates_nothing(tenant_a: Any, oidc_provider: Any) -> None:
    with in_tenant(tenant_a):
        with pytest.raises(ValidationFailed) as exc:
            idps.register_council_provider(purpose="staff", name="", issuer=oidc_provider.a.url, client_id="",
                                           auth=_basic(), claim_mapping=STAFF_MAPPING, production=False)
        assert {"name", "client_id"} <= set(exc.value.errors)
        with pytest.raises(ValidationFailed):
            idps.register_council_provider(purpose="staff", name="X", issuer=oidc_provider.a.url, client_id="c",
                                           auth=_basic(), claim_mapping=STAFF_MAPPING, scopes="email", production=False)
        with pytest.raises(ValidationFailed) as exc:
            idps.register_council_provider(purpose="families", name="X", issuer=oidc_provider.a.url, client_id="c",
                                           auth=_basic(), production=False)
        assert "purpose" in exc.value.errors
        assert idps.council_providers() == []
        idps.register_council_provider(purpose="staff", name="X", issuer=oidc_provider.a.url, client_id="c",
                                       auth=_basic(), claim_mapping=STAFF_MAPPING, production=False)
        with pytest.raises(Conflict):
            idps.register_council_provider(purpose="staff", name="Y", issuer=oidc_provider.a.url, client_id="d",
                                           auth=_basic(), claim_mapping=STAFF_MAPPING, production=False)
        # The same issuer for families is another provider.
        idps.register_council_provider(purpose="public", name="Z", issuer=oidc_provider.a.url, client_id="e",
                                       auth=_basic(), production=False)
        assert [p.name for p in idps.staff_providers()] == ["X"] and [p.name for p in idps.public_providers()] == ["Z"]


def test_council_providers_belong_to_their_council(tenant_a: Any, tenant_b: Any, oidc_provider: Any) -> None:
    from core.errors import NotFound

    with in_tenant(tenant_a):
        mine = idps.register_council_provider(purpose="staff", name="A's", issuer=oidc_provider.a.url, client_id="c",
                                              auth=_basic(), claim_mapping=STAFF_MAPPING, production=False)
    with in_tenant(tenant_b):
        assert idps.council_providers() == [] and idps.staff_providers() == []
        with pytest.raises(NotFound):
            idps.council_provider(mine.id)


def test_organisation_urns_must_be_known_institutions(app: Any, institution: int) -> None:
    assert idps.check_urns([institution, institution]) == [institution]
    for bad in ([], [12], ["900001"], [999998]):
        with pytest.raises(ValidationFailed):
            idps.check_urns(bad)


def test_discovery_is_cached_briefly_and_checked(oidc_provider: Any) -> None:
    idps.clear_caches()
    first = idps.provider_metadata(oidc_provider.a.url, production=False)
    assert first["issuer"] == oidc_provider.a.url
    assert idps.provider_metadata(oidc_provider.a.url, production=False) is first  # from the cache
    idps.clear_caches()
    again = idps.provider_metadata(oidc_provider.a.url, production=False)
    assert again is not first and again == first
    with pytest.raises(idps.ProviderUnavailable):
        idps.provider_metadata(oidc_provider.a.url + "/", production=False)  # names another issuer
    idps.clear_caches()
    with pytest.raises(idps.ProviderUnavailable):  # plain http is for development and tests only
        idps.provider_metadata(oidc_provider.a.url, production=True)
    keys = idps.provider_keys(first["jwks_uri"])
    assert keys.keys and all(not k.is_private for k in keys.keys)


def test_an_unreachable_provider_is_unavailable() -> None:
    from tests.oidc_provider import _free_port

    with pytest.raises(idps.ProviderUnavailable):
        idps.provider_metadata(f"http://127.0.0.1:{_free_port()}", production=False)
