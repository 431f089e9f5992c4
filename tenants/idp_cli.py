"""Operator commands for sign-in (issue #4): ``idp ...`` registers identity providers,
``operators ...`` says who the platform's operators are.

  flask --app wsgi idp council-add --tenant kent --purpose staff --name "Kent staff sign-in" \\
      --issuer https://login.microsoftonline.com/<tenant>/v2.0 --client-id ... --client-secret ... \\
      --claim-mapping '{"claim": "groups", "roles": {"<group id>": "caseworker"}}'
  flask --app wsgi idp council-add --tenant kent --purpose public --name "GOV.UK One Login" \\
      --issuer https://oidc.account.gov.uk/ --client-id ... --auth-method private_key_jwt --generate-key
  flask --app wsgi idp org-add --slug oakfield --name "Oakfield Primary School" --issuer ... \\
      --client-id ... --client-secret ... --urns 991002 \\
      --claim-mapping '{"senco_claim": "roles", "senco_values": ["SENCO"]}'
  flask --app wsgi idp list [--tenant kent]        flask --app wsgi idp disable --tenant kent --id <id>
  flask --app wsgi idp link-user --tenant kent --email a.person@kent.gov.uk --issuer ... --subject ...
  flask --app wsgi operators add --issuer ... --subject ...

They run as the database owner. Secrets are never printed; a generated key's *public* half is
(the provider needs it). See docs/sso.md. The commands are built per app
(:func:`idp_commands`) because whether plain-http loopback issuers are allowed depends on the
environment, which only the app's settings know.
"""

from __future__ import annotations

import json
import sys
import uuid
from pathlib import Path
from typing import Any

import click
from sqlalchemy import func, select

from core.actors import Actor
from core.audit import services as audit
from core.audit.services import audit_context
from core.config import Settings
from core.db import db
from core.errors import Conflict, NotFound, ValidationFailed
from core.identity.models import Identity, Operator
from core.identity.services import record_identity
from core.tenancy import tenant_context
from core.users.models import User
from tenants import identity_providers as idps
from tenants.models import CouncilIdentityProvider, OrganisationIdentityProvider
from tenants.services import tenant_by_slug


def _fail(exc: Exception) -> None:
    if isinstance(exc, ValidationFailed):
        for field, messages in exc.errors.items():
            for m in messages:
                click.echo(f"error: {field}: {m}", err=True)
    else:
        click.echo(f"error: {getattr(exc, 'message', None) or exc}", err=True)
    sys.exit(2)


def _json_option(raw: str | None, name: str) -> Any:
    if raw is None:
        return None
    try:
        return json.loads(raw)
    except json.JSONDecodeError as exc:
        _fail(ValidationFailed({name: [f"is not valid JSON ({exc.msg})"]}))


def _tenant_id(slug: str) -> uuid.UUID:
    """A council's id, read in a scope of its own (a transaction belongs to one tenant context)."""
    with db.isolated_scope():
        try:
            return tenant_by_slug(slug).id
        except NotFound:
            _fail(NotFound(f"council {slug!r}"))
            raise  # unreachable: _fail exits


def _auth(method: str, secret: str | None, key_file: Path | None, generate: bool,
          required: bool = True) -> idps.ClientAuth | None:
    if method == idps.PRIVATE_KEY_JWT:
        if generate and key_file:
            _fail(ValidationFailed({"private_key": ["Give --private-key-file or --generate-key, not both"]}))
        pem = key_file.read_text() if key_file else (idps.generate_private_key() if generate else None)
        if pem is None and not required:
            return None
        return idps.ClientAuth(method=method, private_key_pem=pem)
    if secret is None and not required:
        return None
    return idps.ClientAuth(method=method, secret=secret)


def _council_dict(p: CouncilIdentityProvider, auth: idps.ClientAuth | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"id": str(p.id), "purpose": p.purpose.value, "name": p.name, "issuer": p.issuer,
                           "client_id": p.client_id, "scopes": p.scopes, "claim_mapping": p.claim_mapping,
                           "enabled": p.enabled, "auth_method": (auth or idps.client_auth(p)).method}
    jwk = (auth or idps.client_auth(p)).public_jwk()
    if jwk:
        out["public_jwk"] = jwk
    return out


def _org_dict(p: OrganisationIdentityProvider, auth: idps.ClientAuth | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"slug": p.slug, "name": p.name, "issuer": p.issuer, "client_id": p.client_id,
                           "scopes": p.scopes, "urns": p.urns, "claim_mapping": p.claim_mapping, "enabled": p.enabled,
                           "auth_method": (auth or idps.client_auth(p)).method}
    jwk = (auth or idps.client_auth(p)).public_jwk()
    if jwk:
        out["public_jwk"] = jwk
    return out


_credentials = [
    click.option("--auth-method", type=click.Choice(idps.AUTH_METHODS), default=idps.CLIENT_SECRET_BASIC,
                 show_default=True, help="How we authenticate to the provider's token endpoint"),
    click.option("--client-secret", default=None, envvar="IDP_CLIENT_SECRET",
                 help="client_secret_basic: the secret the provider issued (or $IDP_CLIENT_SECRET)"),
    click.option("--private-key-file", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
                 help="private_key_jwt: an EC P-256 private key (PEM)"),
    click.option("--generate-key", is_flag=True, help="private_key_jwt: make a new key; its public JWK is printed"),
]


def _with_credentials(f: Any) -> Any:
    for option in reversed(_credentials):
        f = option(f)
    return f


def idp_commands(settings: Settings) -> tuple[click.Group, click.Group]:
    """The ``idp`` and ``operators`` command groups for an app with these settings."""
    production = settings.is_production

    @click.group("idp", help="Identity providers: councils' (staff, GOV.UK One Login) and schools' (platform-wide).")
    def idp_cli() -> None:
        pass

    @idp_cli.command("council-add")
    @click.option("--tenant", "slug", required=True, help="The council's slug")
    @click.option("--purpose", type=click.Choice(["staff", "public"]), required=True)
    @click.option("--name", required=True, help='Shown on the sign-in button, e.g. "Kent County Council account"')
    @click.option("--issuer", required=True)
    @click.option("--client-id", required=True)
    @_with_credentials
    @click.option("--scopes", default=None, help='Default "openid email profile" (staff), "openid email" (public)')
    @click.option("--claim-mapping", "mapping_json", default=None,
                  help='staff: {"claim": "groups", "roles": {"<value>": "caseworker"}}; public: {}')
    def council_add(slug: str, purpose: str, name: str, issuer: str, client_id: str, auth_method: str,
                    client_secret: str | None, private_key_file: Path | None, generate_key: bool, scopes: str | None,
                    mapping_json: str | None) -> None:
        """Add a council's identity provider; prints it as JSON (with the public JWK of its key)."""
        mapping = _json_option(mapping_json, "claim_mapping")
        auth = _auth(auth_method, client_secret, private_key_file, generate_key)
        assert auth is not None
        with db.as_owner() as session:
            tenant_id = _tenant_id(slug)
            with tenant_context(tenant_id), audit_context("cli"):
                try:
                    provider = idps.register_council_provider(
                        purpose=purpose, name=name, issuer=issuer, client_id=client_id, auth=auth, scopes=scopes,
                        claim_mapping=mapping, production=production)
                    out = _council_dict(provider, auth)
                    session.commit()
                except (ValidationFailed, Conflict) as exc:
                    session.rollback()
                    _fail(exc)
                    return
        click.echo(json.dumps(out))

    @idp_cli.command("council-update")
    @click.option("--tenant", "slug", required=True)
    @click.option("--id", "provider_id", type=click.UUID, required=True)
    @click.option("--name", default=None)
    @click.option("--client-id", default=None)
    @_with_credentials
    @click.option("--scopes", default=None)
    @click.option("--claim-mapping", "mapping_json", default=None)
    @click.option("--enable", "enabled", flag_value=True, default=None, help="Enable it again")
    def council_update(slug: str, provider_id: uuid.UUID, name: str | None, client_id: str | None, auth_method: str,
                       client_secret: str | None, private_key_file: Path | None, generate_key: bool,
                       scopes: str | None, mapping_json: str | None, enabled: bool | None) -> None:
        """Change a council provider (new credentials, mapping, name ...). The issuer never changes."""
        mapping = _json_option(mapping_json, "claim_mapping")
        auth = _auth(auth_method, client_secret, private_key_file, generate_key, required=False)
        with db.as_owner() as session:
            tenant_id = _tenant_id(slug)
            with tenant_context(tenant_id), audit_context("cli"):
                try:
                    provider = idps.update_council_provider(provider_id, name=name, client_id=client_id, auth=auth,
                                                            scopes=scopes, claim_mapping=mapping, enabled=enabled)
                    out = _council_dict(provider, auth)
                    session.commit()
                except (ValidationFailed, NotFound) as exc:
                    session.rollback()
                    _fail(exc)
                    return
        idps.clear_caches()
        click.echo(json.dumps(out))

    @idp_cli.command("org-add")
    @click.option("--slug", required=True, help="Short name used in sign-in addresses, e.g. oakfield-primary")
    @click.option("--name", required=True)
    @click.option("--issuer", required=True)
    @click.option("--client-id", required=True)
    @_with_credentials
    @click.option("--urns", required=True, help="Comma-separated URNs the provider speaks for")
    @click.option("--claim-mapping", "mapping_json", required=True,
                  help='{"senco_claim": "roles", "senco_values": ["SENCO"], "urn_claim": "urn"}')
    @click.option("--scopes", default=None)
    def org_add(slug: str, name: str, issuer: str, client_id: str, auth_method: str, client_secret: str | None,
                private_key_file: Path | None, generate_key: bool, urns: str, mapping_json: str,
                scopes: str | None) -> None:
        """Register a school's, college's or trust's identity provider for the whole platform."""
        mapping = _json_option(mapping_json, "claim_mapping")
        auth = _auth(auth_method, client_secret, private_key_file, generate_key)
        assert auth is not None
        try:
            urn_list = [int(u) for u in urns.split(",") if u.strip()]
        except ValueError:
            _fail(ValidationFailed({"urns": ["Give URNs as numbers separated by commas, like 991002,991003"]}))
            return
        with db.as_owner() as session, audit_context("cli"):
            try:
                provider = idps.register_organisation_provider(
                    slug=slug, name=name, issuer=issuer, client_id=client_id, auth=auth, urns=urn_list,
                    claim_mapping=mapping, scopes=scopes, production=production)
                out = _org_dict(provider, auth)
                session.commit()
            except (ValidationFailed, Conflict) as exc:
                session.rollback()
                _fail(exc)
                return
        click.echo(json.dumps(out))

    @idp_cli.command("org-update")
    @click.option("--slug", required=True)
    @click.option("--name", default=None)
    @click.option("--client-id", default=None)
    @_with_credentials
    @click.option("--urns", default=None)
    @click.option("--claim-mapping", "mapping_json", default=None)
    @click.option("--scopes", default=None)
    @click.option("--enable", "enabled", flag_value=True, default=None, help="Enable it again")
    def org_update(slug: str, name: str | None, client_id: str | None, auth_method: str, client_secret: str | None,
                   private_key_file: Path | None, generate_key: bool, urns: str | None, mapping_json: str | None,
                   scopes: str | None, enabled: bool | None) -> None:
        mapping = _json_option(mapping_json, "claim_mapping")
        auth = _auth(auth_method, client_secret, private_key_file, generate_key, required=False)
        try:
            urn_list = [int(u) for u in urns.split(",") if u.strip()] if urns is not None else None
        except ValueError:
            _fail(ValidationFailed({"urns": ["Give URNs as numbers separated by commas"]}))
            return
        with db.as_owner() as session:
            try:
                provider = idps.update_organisation_provider(slug, name=name, client_id=client_id, auth=auth,
                                                             urns=urn_list, claim_mapping=mapping, scopes=scopes,
                                                             enabled=enabled)
                out = _org_dict(provider, auth)
                session.commit()
            except (ValidationFailed, NotFound) as exc:
                session.rollback()
                _fail(exc)
                return
        idps.clear_caches()
        click.echo(json.dumps(out))

    @idp_cli.command("list")
    @click.option("--tenant", "slug", default=None, help="A council's providers; without it, the schools' providers")
    def idp_list(slug: str | None) -> None:
        """One JSON object per line. Secrets are never shown."""
        with db.as_owner():
            if slug is None:
                for org in idps.all_organisation_providers():
                    click.echo(json.dumps(_org_dict(org)))
                return
            tenant_id = _tenant_id(slug)
            with tenant_context(tenant_id):
                for provider in idps.council_providers():
                    click.echo(json.dumps(_council_dict(provider)))

    @idp_cli.command("disable")
    @click.option("--tenant", "slug", default=None, help="With --id: a council's provider")
    @click.option("--id", "provider_id", type=click.UUID, default=None)
    @click.option("--org", "org_slug", default=None, help="A school's provider, by its slug")
    def idp_disable(slug: str | None, provider_id: uuid.UUID | None, org_slug: str | None) -> None:
        """Stop sign-in through a provider (sessions already open run to their end)."""
        if (org_slug is None) == (slug is None or provider_id is None):
            _fail(ValidationFailed({"provider": ["Give --tenant and --id, or --org"]}))
        with db.as_owner() as session:
            try:
                if org_slug is not None:
                    out = _org_dict(idps.disable_organisation_provider(org_slug))
                else:
                    assert slug is not None and provider_id is not None
                    with tenant_context(_tenant_id(slug)):
                        out = _council_dict(idps.disable_council_provider(provider_id))
                session.commit()
            except NotFound as exc:
                session.rollback()
                _fail(exc)
                return
        idps.clear_caches()
        click.echo(json.dumps(out))

    @idp_cli.command("link-user")
    @click.option("--tenant", "slug", required=True)
    @click.option("--email", required=True, help="The existing staff account's e-mail address")
    @click.option("--issuer", required=True, help="The council staff provider's issuer")
    @click.option("--subject", required=True, help="The person's subject (sub) at that provider")
    def link_user(slug: str, email: str, issuer: str, subject: str) -> None:
        """Link an existing staff account to a single sign-on identity (issuer, subject).

        Sign-in never links accounts by e-mail: an account made before single sign-on is linked
        here, deliberately, by an administrator who has checked who the subject is."""
        with db.as_owner() as session:
            tenant_id = _tenant_id(slug)
            with tenant_context(tenant_id), audit_context("cli"):
                user = session.execute(select(User).where(func.lower(User.email) == email.strip().lower())) \
                    .scalar_one_or_none()
                if user is None:
                    _fail(NotFound(f"staff account {email!r}"))
                    return
                identity = session.execute(select(Identity).where(
                    Identity.issuer == issuer, Identity.subject == subject)).scalar_one_or_none()
                if identity is None:
                    identity = record_identity(issuer=issuer, subject=subject, email=None, email_verified=False,
                                               display_name=user.display_name)
                    identity.last_signed_in_at = None
                other = session.execute(select(User).where(User.identity_id == identity.id, User.id != user.id)).first()
                if other is not None:
                    session.rollback()
                    _fail(Conflict("That identity is already linked to another staff account in this council"))
                    return
                user.identity_id = identity.id
                audit.record(Actor(tenant_id=tenant_id, kind="system", id="cli:idp link-user"), "user.identity_linked",
                             subject_type="user", subject_ids=[user.id])
                session.commit()
                out = {"user_id": str(user.id), "email": user.email, "identity_id": str(identity.id),
                       "issuer": issuer, "subject": subject}
        click.echo(json.dumps(out))

    @click.group("operators", help="Platform operators: who may sign in at /operator/sign-in.")
    def operators_cli() -> None:
        pass

    @operators_cli.command("add")
    @click.option("--issuer", required=True, help="The operator provider's issuer (OPERATOR_OIDC_ISSUER)")
    @click.option("--subject", required=True, help="The operator's subject (sub) there")
    @click.option("--name", default="Platform operator", show_default=True)
    def operators_add(issuer: str, subject: str, name: str) -> None:
        """Make the identity (issuer, subject) an active operator (created if new)."""
        with db.as_owner() as session:
            identity = session.execute(select(Identity).where(
                Identity.issuer == issuer, Identity.subject == subject)).scalar_one_or_none()
            if identity is None:
                identity = record_identity(issuer=issuer, subject=subject, email=None, email_verified=False,
                                           display_name=name)
                identity.last_signed_in_at = None
            row = session.get(Operator, identity.id)
            if row is None:
                session.add(Operator(identity_id=identity.id, active=True))
            else:
                row.active = True
            session.commit()
            out = {"identity_id": str(identity.id), "issuer": issuer, "subject": subject, "active": True}
        click.echo(json.dumps(out))

    @operators_cli.command("remove")
    @click.option("--issuer", required=True)
    @click.option("--subject", required=True)
    def operators_remove(issuer: str, subject: str) -> None:
        """An operator no longer: they cannot sign in as one from now on."""
        with db.as_owner() as session:
            identity = session.execute(select(Identity).where(
                Identity.issuer == issuer, Identity.subject == subject)).scalar_one_or_none()
            row = session.get(Operator, identity.id) if identity is not None else None
            if row is None:
                _fail(NotFound("operator"))
                return
            row.active = False
            session.commit()
        click.echo(json.dumps({"identity_id": str(identity.id), "active": False}))  # type: ignore[union-attr]

    @operators_cli.command("list")
    def operators_list() -> None:
        with db.as_owner() as session:
            rows = session.execute(select(Operator, Identity).join(Identity, Identity.id == Operator.identity_id)
                                   .order_by(Identity.issuer, Identity.subject)).all()
            for op, identity in rows:
                click.echo(json.dumps({"identity_id": str(identity.id), "issuer": identity.issuer,
                                       "subject": identity.subject, "name": identity.display_name,
                                       "active": op.active}))

    return idp_cli, operators_cli
