"""Loading plugins and calling them for one council (STYLE.md section 4).

Plugins register under the entry-point group ``sendbridge.plugins`` (built-ins too: the core
eats its own dog food). At start :func:`load_plugins` loads them, refuses any written for
another ``PLUGIN_API_VERSION`` or implementing a hook that does not exist
(``check_pending``), and ``SAFE_MODE=1`` loads none. Tests load an explicit list instead of
whatever is installed.

Hooks are only ever called for plugins enabled for the council in question, and each plugin
is called with its own :class:`TenantInfo` (its own settings). :func:`hooks_for` gives a
caller per council; :func:`call_plugin` calls one plugin (what jobs do, so one plugin's
failure never touches another).
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.metadata
import logging
import re
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import pluggy

from core import hookspecs
from core.plugin_api import PLUGIN_API_VERSION, SettingsSchema, TenantInfo

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "sendbridge.plugins"
_NAME = re.compile(r"^[a-z][a-z0-9_]{1,63}$")


class PluginLoadError(RuntimeError):
    pass


@dataclass(frozen=True)
class PluginInfo:
    name: str
    title: str
    module: Any
    settings: SettingsSchema
    #: The hooks it implements.
    hooks: frozenset[str]
    version: str = ""


@dataclass
class PluginHost:
    pm: pluggy.PluginManager
    plugins: dict[str, PluginInfo] = field(default_factory=dict)

    def info(self, name: str) -> PluginInfo:
        try:
            return self.plugins[name]
        except KeyError:
            raise PluginLoadError(f"no plugin called {name!r} is installed") from None


def _new_manager() -> pluggy.PluginManager:
    pm = pluggy.PluginManager("sendbridge")
    pm.add_hookspecs(hookspecs)
    return pm


def _compatible(declared: Any) -> bool:
    if declared is None:
        return False
    lo, hi = declared
    return tuple(lo) <= PLUGIN_API_VERSION < tuple(hi)


def _describe(name: str, module: Any, pm: pluggy.PluginManager) -> PluginInfo:
    if not _NAME.match(name):
        raise PluginLoadError(f"plugin name {name!r}: lower-case letters, digits and _ only")
    declared_name = getattr(module, "NAME", None)
    if declared_name != name:
        raise PluginLoadError(f"plugin {name!r} declares NAME = {declared_name!r}; they must match")
    if not _compatible(getattr(module, "PLUGIN_API", None)):
        raise PluginLoadError(f"plugin {name!r} supports plugin API {getattr(module, 'PLUGIN_API', None)!r}, "
                              f"not {PLUGIN_API_VERSION!r}")
    settings = getattr(module, "SETTINGS", None) or SettingsSchema(name, {})
    if not isinstance(settings, SettingsSchema):
        raise PluginLoadError(f"plugin {name!r}: SETTINGS must be a core.plugin_api.SettingsSchema")
    hooks = frozenset(impl_name for impl_name in dir(module)
                      if hasattr(getattr(module, impl_name, None), "sendbridge_impl"))
    return PluginInfo(name=name, title=getattr(module, "TITLE", name), module=module, settings=settings,
                      hooks=hooks, version=str(getattr(module, "__version__", "")))


def build_host(plugins: Mapping[str, Any]) -> PluginHost:
    """A host with exactly these plugins (name -> module or dotted module path)."""
    pm = _new_manager()
    host = PluginHost(pm)
    for name, module in plugins.items():
        if isinstance(module, str):
            module = importlib.import_module(module)
        info = _describe(name, module, pm)
        pm.register(module, name=name)
        host.plugins[name] = info
    pm.check_pending()
    return host


def installed_plugins() -> dict[str, Any]:
    """Everything registered under the entry-point group, loaded (name -> module)."""
    out: dict[str, Any] = {}
    for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
        if ep.name in out:
            raise PluginLoadError(f"two plugins are called {ep.name!r}")
        out[ep.name] = ep.load()
    return out


_host: PluginHost = build_host({})


def load_plugins(*, safe_mode: bool = False, only: Iterable[str] | None = None,
                 explicit: Mapping[str, Any] | None = None) -> PluginHost:
    """Choose the plugins once at start. ``explicit`` (tests) bypasses the entry points."""
    global _host
    if safe_mode:
        chosen: Mapping[str, Any] = {}
    elif explicit is not None:
        chosen = explicit
    else:
        chosen = installed_plugins()
        if only is not None:
            wanted = set(only)
            chosen = {k: v for k, v in chosen.items() if k in wanted}
    _host = build_host(chosen)
    log.info("plugins loaded", extra={"plugins": sorted(_host.plugins)})
    return _host


def host() -> PluginHost:
    return _host


def use_host(new: PluginHost) -> PluginHost:
    """Swap the host (tests); returns the previous one."""
    global _host
    old, _host = _host, new
    return old


@contextlib.contextmanager
def swapped_host() -> Iterator[Callable[..., PluginHost]]:
    """For tests (ours and vendors'): yields ``load(name=module, ...)``, which makes exactly
    those plugins the loaded ones, checked as at start; the host from before is restored on
    exit however often ``load`` was called."""
    original = _host

    def load(**plugins: Any) -> PluginHost:
        new = build_host(plugins)
        use_host(new)
        return new

    try:
        yield load
    finally:
        use_host(original)


def is_firstresult(hook: str) -> bool:
    caller = getattr(_host.pm.hook, hook)
    return bool(caller.spec and caller.spec.opts.get("firstresult"))


def call_plugin(tenant: TenantInfo, plugin: str, hook: str, **kwargs: Any) -> Any:
    """Call one plugin's implementation of ``hook`` (``None`` if it has none).

    The caller has already checked that the plugin is enabled for ``tenant`` and built
    ``tenant`` with that plugin's settings (``core.plugins.services.tenant_info``).
    """
    info = _host.info(plugin)
    if hook not in info.hooks:
        return None
    others = [p.module for n, p in _host.plugins.items() if n != plugin]
    result = _host.pm.subset_hook_caller(hook, remove_plugins=others)(tenant=tenant, **kwargs)
    if is_firstresult(hook):
        return result
    return result[0] if result else None


def implementers(hook: str, enabled: Iterable[str]) -> list[str]:
    """The enabled plugins that implement ``hook``, in a stable order (by name)."""
    return sorted(n for n in enabled if n in _host.plugins and hook in _host.plugins[n].hooks)


