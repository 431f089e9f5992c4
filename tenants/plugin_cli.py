"""Operator commands for plugins (issue #5): which are installed, and each council's own.

  flask --app wsgi plugins list [--tenant kent]
  flask --app wsgi plugins enable --tenant kent notify
  flask --app wsgi plugins disable --tenant kent notify
  flask --app wsgi plugins configure --tenant kent notify api_key=... template_deadline_reminder_email=<id>

``configure`` takes KEY=VALUE pairs (a VALUE that parses as JSON is taken as JSON, so numbers
and true/false work). Keys are checked against the plugin's own settings schema: an unknown
key or a bad value is refused, every problem is listed, and nothing is changed. Secrets are
sealed at rest and never printed back (``list`` says only whether each is set). A secret can
be read from the environment instead of the command line: ``api_key=@env:NOTIFY_API_KEY``.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

import click

from core.audit.services import audit_context
from core.db import db
from core.errors import NotFound, ValidationFailed
from core.plugins import services as plugins
from core.plugins.manager import host
from core.tenancy import tenant_context
from tenants.cli import tenant_for_command


def _fail(exc: Exception) -> None:
    if isinstance(exc, ValidationFailed):
        for field, messages in exc.errors.items():
            for m in messages:
                click.echo(f"error: {field}: {m}", err=True)
    else:
        click.echo(f"error: {getattr(exc, 'message', None) or exc}", err=True)
    sys.exit(2)


def parse_assignments(assignments: tuple[str, ...], environ: dict[str, str] | None = None) -> dict[str, Any]:
    environ = dict(os.environ) if environ is None else environ
    changes: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    for item in assignments:
        key, sep, raw = item.partition("=")
        if not sep or not key:
            errors.setdefault(item, []).append("write KEY=VALUE")
            continue
        if raw.startswith("@env:"):
            name = raw[len("@env:"):]
            if name not in environ:
                errors.setdefault(key, []).append(f"the environment variable {name} is not set")
                continue
            changes[key] = environ[name]
            continue
        try:
            changes[key] = json.loads(raw)
        except json.JSONDecodeError:
            changes[key] = raw
    if errors:
        raise ValidationFailed(errors)
    return changes


def _state_dict(state: plugins.PluginState) -> dict[str, Any]:
    return {"name": state.name, "title": state.title, "enabled": state.enabled, "settings": state.settings,
            "hooks": list(state.hooks)}


@click.group("plugins", help="Installed plugins, and which each council uses with what settings.")
def plugins_cli() -> None:
    pass


@plugins_cli.command("list")
@click.option("--tenant", "slug", default=None, help="Show this council's enablement and settings")
def plugins_list(slug: str | None) -> None:
    if slug is None:
        for name, info in sorted(host().plugins.items()):
            click.echo(json.dumps({"name": name, "title": info.title, "version": info.version,
                                   "hooks": sorted(info.hooks), "settings": sorted(info.settings.keys)}))
        return
    with db.as_owner():
        tenant_id, _ = tenant_for_command(slug)
        with tenant_context(tenant_id):
            for state in plugins.describe():
                click.echo(json.dumps(_state_dict(state)))


def _set(slug: str, name: str, enabled: bool) -> None:
    with db.as_owner() as session:
        tenant_id, _ = tenant_for_command(slug)
        with tenant_context(tenant_id), audit_context("cli"):
            try:
                plugins.set_enabled(name, enabled)
                session.commit()
            except NotFound as exc:
                session.rollback()
                _fail(exc)
                return
            click.echo(json.dumps(_state_dict(next(s for s in plugins.describe() if s.name == name))))


@plugins_cli.command("enable")
@click.option("--tenant", "slug", required=True)
@click.argument("name")
def plugins_enable(slug: str, name: str) -> None:
    """Turn a plugin on for one council (its hooks are then called for that council only)."""
    _set(slug, name, True)


@plugins_cli.command("disable")
@click.option("--tenant", "slug", required=True)
@click.argument("name")
def plugins_disable(slug: str, name: str) -> None:
    """Turn a plugin off for one council; its settings are kept."""
    _set(slug, name, False)


@plugins_cli.command("configure")
@click.option("--tenant", "slug", required=True)
@click.argument("name")
@click.argument("assignments", nargs=-1, required=True)
def plugins_configure(slug: str, name: str, assignments: tuple[str, ...]) -> None:
    """Change a plugin's settings for one council: KEY=VALUE ..."""
    with db.as_owner() as session:
        tenant_id, _ = tenant_for_command(slug)
        with tenant_context(tenant_id), audit_context("cli"):
            try:
                plugins.configure(name, parse_assignments(assignments))
                session.commit()
            except (NotFound, ValidationFailed) as exc:
                session.rollback()
                _fail(exc)
                return
            click.echo(json.dumps(_state_dict(next(s for s in plugins.describe() if s.name == name))))
