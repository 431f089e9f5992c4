"""Per-council plugin enablement and settings, and calling a council's enabled plugins.

Settings are checked against the plugin's own :class:`SettingsSchema` (unknown keys refused,
every problem reported at once). Keys the schema marks ``secret`` are sealed with
``core.crypto``, bound to the council and plugin, and never shown back: :func:`describe`
says only whether each secret is set.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import column, event, select, table
from sqlalchemy.orm import Session

from core import crypto
from core.db import db
from core.errors import NotFound, ValidationFailed
from core.plugin_api import TenantInfo
from core.plugins.manager import call_plugin, host, implementers, is_firstresult
from core.plugins.models import TenantPlugin
from core.schema import SchemaError
from core.tenancy import require_tenant_id

# The tenant registry belongs to ``tenants`` (which core may not import); core reads the few
# columns it shows plugins through a lightweight table clause.
_tenant = table("tenant", column("id"), column("slug"), column("name"), column("la_code"))


def _secret_context(tenant_id: uuid.UUID, plugin: str) -> str:
    return f"plugin-secrets:{tenant_id}:{plugin}"


def _row(plugin: str) -> TenantPlugin | None:
    return db.session.execute(select(TenantPlugin).where(TenantPlugin.plugin == plugin)).scalar_one_or_none()


def _require_installed(plugin: str) -> None:
    if plugin not in host().plugins:
        raise NotFound(f"No plugin called {plugin} is installed")


#: Enabled plugins per (council, plugin host), kept for the transaction: callers that loop (the
#: outbox relay, reminder delivery, schedule_call per event) ask once, not once per item.
_ENABLED = "sendbridge_enabled_plugins"


@event.listens_for(Session, "after_transaction_end")
def _forget_enabled(session: Session, transaction: Any) -> None:
    if transaction.parent is None:
        session.info.pop(_ENABLED, None)


def enabled_plugins() -> list[str]:
    """Names of the plugins enabled for the current council that are installed here."""
    cache = db.session.info.setdefault(_ENABLED, {})
    key = (require_tenant_id(), id(host()))
    if key not in cache:
        names = db.session.execute(select(TenantPlugin.plugin).where(TenantPlugin.enabled.is_(True))).scalars()
        cache[key] = tuple(sorted(n for n in names if n in host().plugins))
    return list(cache[key])


def is_enabled(plugin: str) -> bool:
    return plugin in enabled_plugins()


def set_enabled(plugin: str, enabled: bool) -> TenantPlugin:
    """Enable or disable a plugin for the current council (settings are kept)."""
    _require_installed(plugin)
    row = _row(plugin)
    if row is None:
        info = host().info(plugin)
        public = {k: v for k, v in info.settings.defaults().items() if not info.settings.keys[k].secret}
        row = TenantPlugin(plugin=plugin, settings=public, sealed_secrets="")
        db.session.add(row)
    row.enabled = enabled
    db.session.flush()
    db.session.info.pop(_ENABLED, None)
    return row


def configure(plugin: str, changes: Mapping[str, Any]) -> TenantPlugin:
    """Apply a change to a plugin's settings for the current council, or raise
    :class:`ValidationFailed` naming every bad key (nothing is changed then)."""
    _require_installed(plugin)
    schema = host().info(plugin).settings
    try:
        checked = schema.validate(changes, partial=True)
    except SchemaError as exc:
        raise ValidationFailed(exc.errors) from None
    row = _row(plugin) or set_enabled(plugin, False)
    tenant_id = require_tenant_id()
    secrets = _secrets(row, tenant_id)
    public = dict(row.settings)
    for key, value in checked.items():
        (secrets if schema.keys[key].secret else public)[key] = value
    row.settings = public
    row.sealed_secrets = crypto.encrypt(json.dumps(secrets), context=_secret_context(tenant_id, plugin)) \
        if secrets else ""
    db.session.flush()
    return row


def _secrets(row: TenantPlugin, tenant_id: uuid.UUID) -> dict[str, Any]:
    if not row.sealed_secrets:
        return {}
    return dict(json.loads(crypto.decrypt(row.sealed_secrets, context=_secret_context(tenant_id, row.plugin))))


def settings_of(plugin: str) -> dict[str, Any]:
    """A plugin's complete settings for the current council, secrets decrypted (for calls only)."""
    schema = host().info(plugin).settings
    row = _row(plugin)
    values = schema.defaults()
    if row is not None:
        values.update(row.settings)
        values.update(_secrets(row, require_tenant_id()))
    return values


@dataclass(frozen=True)
class PluginState:
    name: str
    title: str
    enabled: bool
    #: Non-secret settings as stored; secrets as ``"set"`` or ``"not set"``.
    settings: dict[str, Any]
    hooks: tuple[str, ...]


def describe() -> list[PluginState]:
    """Every installed plugin and its state in the current council, secrets masked."""
    out = []
    rows = {r.plugin: r for r in db.session.execute(select(TenantPlugin)).scalars()}
    for name, info in sorted(host().plugins.items()):
        row = rows.get(name)
        secrets = _secrets(row, require_tenant_id()) if row else {}
        shown: dict[str, Any] = {}
        for key, spec in info.settings.keys.items():
            if spec.secret:
                shown[key] = "set" if secrets.get(key) not in (None, "") else "not set"
            else:
                shown[key] = (row.settings if row else {}).get(key, spec.default)
        out.append(PluginState(name, info.title, bool(row and row.enabled), shown, tuple(sorted(info.hooks))))
    return out


def tenant_info(plugin: str) -> TenantInfo:
    tenant_id = require_tenant_id()
    row = db.session.execute(select(_tenant.c.slug, _tenant.c.name, _tenant.c.la_code)
                             .where(_tenant.c.id == tenant_id)).one()
    return TenantInfo(id=tenant_id, slug=row.slug, name=row.name, la_code=row.la_code,
                      settings=settings_of(plugin))


def call_enabled(hook: str, **kwargs: Any) -> Any:
    """Call ``hook`` on the current council's enabled plugins, in process.

    firstresult hooks: the first non-``None`` answer (plugins tried by name), else ``None``.
    Notification hooks: a list of the answers. Exceptions propagate: use this in jobs, or
    for hooks documented as safe in a request; partner calls go through
    :func:`core.plugins.calls.schedule_call` instead.
    """
    first = is_firstresult(hook)
    answers = []
    for name in implementers(hook, enabled_plugins()):
        answer = call_plugin(tenant_info(name), name, hook, **kwargs)
        if first and answer is not None:
            return answer
        answers.append(answer)
    return None if first else answers
