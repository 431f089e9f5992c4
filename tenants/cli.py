"""Operator commands (api-v1.md): ``tenants create|list|disable|enable``, ``clients create|list|revoke``.

Registered on the Flask CLI by ``web.cli``; they run as the database owner.
"""

from __future__ import annotations

import json
import sys
from typing import Any

import click
from sqlalchemy import select

from core.api_clients.models import ApiClient
from core.api_clients.services import create_client, revoke_client
from core.audit.services import audit_context
from core.db import db
from core.errors import Conflict, NotFound, ValidationFailed
from core.tenancy import tenant_context
from tenants.models import TenantStatus
from tenants.services import list_tenants, provision_tenant, set_status, tenant_by_slug, update_settings


def _fail(exc: Exception) -> None:
    if isinstance(exc, ValidationFailed):
        for field, messages in exc.errors.items():
            for m in messages:
                click.echo(f"error: {field}: {m}", err=True)
    else:
        click.echo(f"error: {exc}", err=True)
    sys.exit(2)


def _tenant_dict(t: Any) -> dict[str, Any]:
    return {"id": str(t.id), "slug": t.slug, "name": t.name, "la_code": t.la_code, "status": t.status.value,
            "settings": t.settings}


@click.group("tenants", help="Create, list and disable councils.")
def tenants_cli() -> None:
    pass


@tenants_cli.command("create")
@click.option("--slug", required=True, help="Lower-case name used in addresses, e.g. kent")
@click.option("--name", required=True, help='e.g. "Kent County Council"')
@click.option("--la-code", required=True, help="DfE three-digit local authority code, e.g. 886")
@click.option("--settings", "settings_json", default=None, help="Initial settings as a JSON object")
def tenants_create(slug: str, name: str, la_code: str, settings_json: str | None) -> None:
    try:
        settings = json.loads(settings_json) if settings_json else None
        if settings is not None and not isinstance(settings, dict):
            raise ValidationFailed({"settings": ["must be a JSON object"]})
    except json.JSONDecodeError as exc:
        _fail(ValidationFailed({"settings": [f"is not valid JSON ({exc.msg})"]}))
        return
    with db.as_owner() as session, audit_context("cli"):
        try:
            tenant = provision_tenant(slug=slug, name=name, la_code=la_code, settings=settings)
            session.commit()
        except (ValidationFailed, Conflict) as exc:
            session.rollback()
            _fail(exc)
            return
        click.echo(json.dumps(_tenant_dict(tenant)))


@tenants_cli.command("list")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line")
def tenants_list(as_json: bool) -> None:
    with db.as_owner():
        for t in list_tenants():
            if as_json:
                click.echo(json.dumps(_tenant_dict(t)))
            else:
                click.echo(f"{t.slug:<24} {t.la_code}  {t.status.value:<8}  {t.name}")


def _set_status(slug: str, status: TenantStatus) -> None:
    with db.as_owner() as session:
        try:
            tenant = set_status(slug, status)
            session.commit()
        except NotFound as exc:
            _fail(exc)
            return
        click.echo(json.dumps(_tenant_dict(tenant)))


@tenants_cli.command("disable")
@click.option("--slug", required=True)
def tenants_disable(slug: str) -> None:
    """Disable a council: every page, API call and token of it answers 404 from now on."""
    _set_status(slug, TenantStatus.DISABLED)


@tenants_cli.command("enable")
@click.option("--slug", required=True)
def tenants_enable(slug: str) -> None:
    _set_status(slug, TenantStatus.ACTIVE)


@tenants_cli.command("configure")
@click.option("--slug", required=True)
@click.argument("assignments", nargs=-1, required=True)
def tenants_configure(slug: str, assignments: tuple[str, ...]) -> None:
    """Change settings: KEY=JSON_VALUE ... (e.g. reminder_days_before=5)."""
    changes: dict[str, Any] = {}
    for item in assignments:
        key, sep, raw = item.partition("=")
        if not sep:
            _fail(ValidationFailed({item: ["write KEY=VALUE"]}))
            return
        try:
            changes[key] = json.loads(raw)
        except json.JSONDecodeError:
            changes[key] = raw
    with db.as_owner() as session:
        try:
            tenant = update_settings(slug, changes)
            session.commit()
        except (NotFound, ValidationFailed) as exc:
            _fail(exc)
            return
        click.echo(json.dumps(_tenant_dict(tenant)))


def tenant_for_command(slug: str) -> tuple[Any, str]:
    """(id, slug) of a council, read in a scope of its own: the work that follows runs in
    that council's context, and a transaction belongs to one tenant context (core.tenancy)."""
    with db.isolated_scope():
        try:
            tenant = tenant_by_slug(slug)
        except NotFound as exc:
            _fail(exc)
        return tenant.id, tenant.slug


@click.group("clients", help="API clients (OAuth 2.0 client credentials) of a council.")
def clients_cli() -> None:
    pass


@clients_cli.command("create")
@click.option("--tenant", "slug", required=True)
@click.option("--name", required=True)
@click.option("--scopes", required=True, help='Space-separated, e.g. "children:read children:write"')
def clients_create(slug: str, name: str, scopes: str) -> None:
    """Prints {"client_id": ..., "client_secret": ...}; the secret is shown only this once."""
    with db.as_owner() as session:
        tenant_id, tenant_slug = tenant_for_command(slug)
        with tenant_context(tenant_id), audit_context("cli"):
            try:
                client, secret = create_client(tenant_slug, name, scopes)
                session.commit()
            except ValidationFailed as exc:
                session.rollback()
                _fail(exc)
                return
    click.echo(json.dumps({"client_id": client.client_id, "client_secret": secret}))


@clients_cli.command("list")
@click.option("--tenant", "slug", required=True)
def clients_list(slug: str) -> None:
    with db.as_owner() as session:
        tenant_id, _ = tenant_for_command(slug)
        with tenant_context(tenant_id):
            for c in session.execute(select(ApiClient).order_by(ApiClient.created_at)).scalars():
                click.echo(json.dumps({"client_id": c.client_id, "name": c.name, "scopes": c.scopes, "active": c.active}))


@clients_cli.command("revoke")
@click.option("--tenant", "slug", required=True)
@click.option("--client-id", required=True)
def clients_revoke(slug: str, client_id: str) -> None:
    """Revoke a client: its tokens stop working at once."""
    with db.as_owner() as session:
        tenant_id, _ = tenant_for_command(slug)
        with tenant_context(tenant_id):
            client = session.execute(select(ApiClient).where(ApiClient.client_id == client_id)).scalar_one_or_none()
            if client is None:
                _fail(NotFound("client"))
                return
            revoke_client(client)
            session.commit()
    click.echo(json.dumps({"client_id": client_id, "active": False}))
