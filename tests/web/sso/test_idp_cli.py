"""The operators' commands (tenants/idp_cli.py): ``idp ...`` and ``operators ...``. They run as
the owner and commit for real, so every test here removes what it made."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import text

from core.db import db
from core.tenancy import tenant_context
from core.users.models import Role
from core.users.services import create_user
from tenants import identity_providers as idps
from tests.web.sso.conftest import SCHOOL_MAPPING, STAFF_MAPPING, sso_sign_in

SECRET = "cli-secret-that-is-never-printed-or-stored-in-clear"


@pytest.fixture
def council(create_tenant: Any, owner_engine: Any, oidc_provider: Any, request: pytest.FixtureRequest) -> Any:
    """A committed council for the CLI to work in; what the CLI made there goes with it."""
    tenant = create_tenant()

    def remove() -> None:
        with owner_engine.begin() as conn:
            # Tenant tables stay under row-level security for the owner too (FORCEd).
            conn.execute(text("SELECT set_config('app.tenant_id', :t, true)"), {"t": str(tenant.id)})
            for table in ("audit_event", "user_session", "council_identity_provider", "app_user"):
                conn.execute(text(f"DELETE FROM {table} WHERE tenant_id = :t"), {"t": tenant.id})
            # The identity link-user made (sign-ins in the test itself were rolled back).
            conn.execute(text("DELETE FROM identity WHERE issuer = :a AND subject = 'amara'"), {"a": oidc_provider.a.url})

    # Before create_tenant's own clean-up, which removes the council itself.
    request.node.after_rollback.insert(0, remove)
    return tenant


@pytest.fixture
def cli(app: Any) -> Callable[..., Any]:
    runner = app.test_cli_runner()

    def run(*args: str, ok: bool = True) -> Any:
        result = runner.invoke(args=list(args))
        if ok:
            assert result.exit_code == 0, result.output
        return result

    return run


def _stored(owner_engine: Any, tenant_id: Any, provider_id: str) -> str:
    with owner_engine.begin() as conn:
        conn.execute(text("SELECT set_config('app.tenant_id', :t, true)"), {"t": str(tenant_id)})
        return str(conn.execute(text("SELECT client_secret_encrypted FROM council_identity_provider WHERE id = :i"),
                                {"i": provider_id}).scalar_one())


def test_council_add_list_update_disable(cli: Any, council: Any, oidc_provider: Any, owner_engine: Any) -> None:
    out = cli("idp", "council-add", "--tenant", council.slug, "--purpose", "staff", "--name", "Staff sign-in",
              "--issuer", oidc_provider.a.url, "--client-id", "staff", "--client-secret", SECRET,
              "--claim-mapping", json.dumps(STAFF_MAPPING)).output
    assert SECRET not in out
    added = json.loads(out)
    assert added["purpose"] == "staff" and added["auth_method"] == "client_secret_basic" and added["enabled"]
    assert SECRET not in _stored(owner_engine, council.id, added["id"])
    listed = [json.loads(line) for line in cli("idp", "list", "--tenant", council.slug).output.splitlines()]
    assert [p["id"] for p in listed] == [added["id"]] and SECRET not in json.dumps(listed)
    updated = json.loads(cli("idp", "council-update", "--tenant", council.slug, "--id", added["id"], "--name",
                             "Council account").output)
    assert updated["name"] == "Council account" and updated["claim_mapping"] == STAFF_MAPPING
    disabled = json.loads(cli("idp", "disable", "--tenant", council.slug, "--id", added["id"]).output)
    assert disabled["enabled"] is False
    again = json.loads(cli("idp", "council-update", "--tenant", council.slug, "--id", added["id"], "--enable").output)
    assert again["enabled"] is True


def test_council_add_with_a_generated_key_prints_only_the_public_half(cli: Any, council: Any, oidc_provider: Any,
                                                                      owner_engine: Any) -> None:
    out = cli("idp", "council-add", "--tenant", council.slug, "--purpose", "public", "--name", "GOV.UK One Login",
              "--issuer", oidc_provider.a.url, "--client-id", "pkjwt", "--auth-method", "private_key_jwt",
              "--generate-key").output
    added = json.loads(out)
    assert added["auth_method"] == "private_key_jwt" and "PRIVATE" not in out
    assert added["public_jwk"]["kty"] == "EC" and "d" not in added["public_jwk"]
    assert "PRIVATE KEY" not in _stored(owner_engine, council.id, added["id"])


@pytest.mark.parametrize(("args", "message"), [
    (["--issuer", "http://idp.example.com"], "issuer"),
    (["--claim-mapping", json.dumps({**STAFF_MAPPING, "colour": "red"})], "claim_mapping.colour"),
    (["--claim-mapping", "{not json"], "claim_mapping"),
    (["--client-secret", ""], "client_secret"),
])
def test_council_add_refuses_bad_input_and_adds_nothing(cli: Any, council: Any, oidc_provider: Any,
                                                        args: list[str], message: str) -> None:
    base = {"--issuer": oidc_provider.a.url, "--claim-mapping": json.dumps(STAFF_MAPPING), "--client-secret": SECRET}
    base.update(dict(zip(args[::2], args[1::2])))
    result = cli("idp", "council-add", "--tenant", council.slug, "--purpose", "staff", "--name", "X",
                 "--client-id", "staff", *[x for kv in base.items() for x in kv], ok=False)
    assert result.exit_code == 2 and f"error: {message}" in result.output
    assert cli("idp", "list", "--tenant", council.slug).output == ""


def test_org_add_list_disable(cli: Any, oidc_provider: Any, institution: int, owner_engine: Any,
                              request: pytest.FixtureRequest) -> None:
    slug = f"cli-school-{uuid.uuid4().hex[:6]}"

    def remove() -> None:
        with owner_engine.begin() as conn:
            conn.execute(text("DELETE FROM organisation_identity_provider WHERE slug = :s"), {"s": slug})

    request.node.after_rollback.append(remove)
    bad = cli("idp", "org-add", "--slug", slug, "--name", "Test Primary", "--issuer", oidc_provider.b.url,
              "--client-id", "school", "--client-secret", SECRET, "--urns", "999998",
              "--claim-mapping", json.dumps(SCHOOL_MAPPING), ok=False)
    assert bad.exit_code == 2 and "error: urns" in bad.output
    out = cli("idp", "org-add", "--slug", slug, "--name", "Test Primary", "--issuer", oidc_provider.b.url,
              "--client-id", "school", "--client-secret", SECRET, "--urns", str(institution),
              "--claim-mapping", json.dumps(SCHOOL_MAPPING)).output
    assert json.loads(out)["urns"] == [institution] and SECRET not in out
    listed = [json.loads(line) for line in cli("idp", "list").output.splitlines()]
    assert slug in [p["slug"] for p in listed]
    assert json.loads(cli("idp", "disable", "--org", slug).output)["enabled"] is False
    assert cli("idp", "disable", "--org", "no-such-school", ok=False).exit_code == 2


def test_an_administrator_links_an_existing_account_which_then_signs_in_as_itself(
        cli: Any, council: Any, oidc_provider: Any, client_for: Any, app: Any) -> None:
    with db.as_owner() as session, tenant_context(council.id):
        user = create_user(email="a.okafor@council.example.gov.uk", display_name="Amara (existing)",
                           role=Role.TEAM_MANAGER)
        session.commit()
        user_id = user.id
    provider = json.loads(cli("idp", "council-add", "--tenant", council.slug, "--purpose", "staff", "--name", "Staff",
                              "--issuer", oidc_provider.a.url, "--client-id", "staff", "--client-secret",
                              oidc_provider.secret(oidc_provider.a, "staff"),
                              "--claim-mapping", json.dumps(STAFF_MAPPING)).output)
    assert cli("idp", "link-user", "--tenant", council.slug, "--email", "nobody@x.example", "--issuer",
               oidc_provider.a.url, "--subject", "amara", ok=False).exit_code == 2
    linked = json.loads(cli("idp", "link-user", "--tenant", council.slug, "--email", "A.Okafor@council.example.gov.uk",
                            "--issuer", oidc_provider.a.url, "--subject", "amara").output)
    assert linked["user_id"] == str(user_id)
    idps.clear_caches()
    client = client_for(council)
    assert sso_sign_in(client, f"/sign-in/sso/{provider['id']}", "amara").status_code == 302
    assert "Amara (existing)" in client.get("/children/").get_data(as_text=True)


def test_operators_add_list_remove(cli: Any, oidc_provider: Any, owner_engine: Any,
                                   request: pytest.FixtureRequest) -> None:
    subject = f"cli-{uuid.uuid4().hex[:6]}"

    def remove() -> None:
        with owner_engine.begin() as conn:
            conn.execute(text("DELETE FROM identity WHERE issuer = :i AND subject = :s"),
                         {"i": oidc_provider.a.url, "s": subject})

    request.node.after_rollback.append(remove)
    added = json.loads(cli("operators", "add", "--issuer", oidc_provider.a.url, "--subject", subject).output)
    assert added["active"] is True
    listed = [json.loads(line) for line in cli("operators", "list").output.splitlines()]
    assert {"identity_id": added["identity_id"], "active": True}.items() <= next(
        o for o in listed if o["subject"] == subject).items()
    assert json.loads(cli("operators", "remove", "--issuer", oidc_provider.a.url, "--subject", subject)
                      .output)["active"] is False
    assert cli("operators", "remove", "--issuer", oidc_provider.a.url, "--subject", "nobody", ok=False).exit_code == 2
